"""Clients, trajectories and invitations: the road to intake (Werkwijze, art. 1.8, 1.9)."""
