"""The practice's settings: one row. Behaviour and generated documents both read it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from coachregister.lib import net


def validate_networks(value: str) -> None:
    try:
        net.parse_networks(value.splitlines())
    except ValueError:
        raise ValidationError(
            _("Each line must be an IP address or network, like 192.0.2.0/24.")
        ) from None


class PracticeSettings(models.Model):
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    name = models.CharField(_("practice name"), max_length=200, default="Coachpraktijk")
    address = models.TextField(_("postal address"), blank=True)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    chamber_of_commerce = models.CharField(
        _("Chamber of Commerce number"), max_length=20, blank=True
    )
    # Art. 12.2: from these networks a password suffices, unless 2FA is required everywhere.
    office_networks = models.TextField(
        _("office networks"),
        blank=True,
        validators=[validate_networks],
        help_text=_("One IP address or network per line, e.g. 192.0.2.0/24."),
    )
    two_factor_everywhere = models.BooleanField(
        _("require two-step verification everywhere"),
        default=False,
        help_text=_("Also require the second step inside the office."),
    )
    # Art. 3.1: the coach is told of a new coachee. By default the mail carries no personal
    # data, only a link into the register; the practice may choose to include the details.
    coach_mail_includes_contact_details = models.BooleanField(
        _("include contact details in the mail to the coach"),
        default=False,
        help_text=_("Off: the mail only links to the register, where viewing is recorded."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("practice settings")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> PracticeSettings:
        """The one row; created with defaults the first time (it holds no personal data)."""
        obj, _created = cls.objects.get_or_create(singleton=True)
        return obj

    def office_network_list(self) -> list[net.IPNetwork]:
        return net.parse_networks(self.office_networks.splitlines())


class RegulationVersion(models.Model):
    """A published version of the privacy regulation, as shown to clients with a quote and to
    coachees at intake (Werkwijze). Kept as shown, so consent proves what was read."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    text = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("privacy regulation version")

    def __str__(self) -> str:
        return self.version

    @classmethod
    def current(cls) -> RegulationVersion | None:
        return cls.objects.order_by("-published_at", "-id").first()
