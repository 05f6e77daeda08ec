"""The states of a vendor's clock, shown in colour and in words."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# A running episode is « menacé » from this share of its budget on (the helpdesk's middle alert).
THREATENED_PERCENT = 75


class ClockState(models.TextChoices):
    IN_TIME = "in_time", _("dans les délais")
    THREATENED = "threatened", _("menacé")
    LATE = "late", _("dépassé")
    NO_COMMITMENT = "none", _("sans engagement")
