"""The answer form built from a questionnaire's questions reads what a French user types."""

from decimal import Decimal

from django.utils import translation

from mutualis.questionnaires.forms import _field
from mutualis.questionnaires.models import Question, QuestionKind


def test_it_reads_thousands_spaces_in_a_number_question():
    field = _field(Question(label="Montant", kind=QuestionKind.NUMBER), collectivity_id=None)

    with translation.override("fr"):
        assert field.clean("2 500,75") == Decimal("2500.75")
