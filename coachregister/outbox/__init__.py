"""The durable outbox for email: nothing is lost when SMTP is down (art. 3.1)."""
