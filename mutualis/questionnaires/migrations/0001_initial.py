"""The request-form builder moves out of the helpdesk into this app. No table moves here: the
models are declared on the helpdesk's existing tables and columns (state only, nothing runs on the
database), then 0002 gives them this app's names. The content types follow (helpdesk.requestform
becomes questionnaires.questionnaire, …) so audit entries about them still resolve."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

# helpdesk model name → this app's model name
RENAMED = {"requestform": "questionnaire", "formsection": "section", "formquestion": "question"}


def move_content_types(apps, schema_editor, *, source="helpdesk", target="questionnaires", names=RENAMED):
    """Relabel the source app's content types (and their permissions' codenames) as the target's.
    Where the target's row exists already (a post_migrate ran with the new code before this
    migration), the audit entries move onto it and the old row goes."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    AuditEntry = apps.get_model("core", "AuditEntry")
    db = schema_editor.connection.alias
    for old_name, new_name in names.items():
        old = ContentType.objects.using(db).filter(app_label=source, model=old_name).first()
        if old is None:
            continue  # a fresh database: post_migrate creates the new rows
        new = ContentType.objects.using(db).filter(app_label=target, model=new_name).first()
        if new is not None:
            AuditEntry.objects.using(db).filter(content_type_id=old.pk).update(content_type_id=new.pk)
            Permission.objects.using(db).filter(content_type_id=old.pk).delete()
            old.delete()
            continue
        old.app_label, old.model = target, new_name
        old.save(update_fields=["app_label", "model"])
        for permission in Permission.objects.using(db).filter(content_type_id=old.pk):
            action, _, model = permission.codename.rpartition("_")
            if model == old_name:
                permission.codename = f"{action}_{new_name}"
                permission.save(update_fields=["codename"])
    ContentType.objects.clear_cache()


def move_content_types_back(apps, schema_editor):
    move_content_types(
        apps, schema_editor, source="questionnaires", target="helpdesk", names={v: k for k, v in RENAMED.items()}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("catalog", "0003_application_url"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("helpdesk", "0010_inbound_mail"),
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Questionnaire",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="modifié le")),
                        ("slug", models.SlugField(max_length=80, unique=True, verbose_name="identifiant")),
                        ("name", models.CharField(max_length=150, verbose_name="nom")),
                        ("description", models.TextField(blank=True, verbose_name="description")),
                        ("active", models.BooleanField(default=False, verbose_name="publié")),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="ordre")),
                        (
                            "ticket_type",
                            models.CharField(
                                choices=[("incident", "incident"), ("request", "demande")],
                                default="request",
                                max_length=16,
                                verbose_name="type du ticket",
                            ),
                        ),
                        (
                            "urgency",
                            models.PositiveSmallIntegerField(
                                default=3,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(5),
                                ],
                                verbose_name="urgence",
                            ),
                        ),
                        (
                            "title_template",
                            models.CharField(
                                blank=True,
                                help_text=(
                                    "Titre du ticket créé ; {identifiant} d'une question y met sa réponse. "
                                    "Vide : le nom du formulaire."
                                ),
                                max_length=250,
                                verbose_name="modèle de titre",
                            ),
                        ),
                        (
                            "application",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="questionnaires",
                                to="catalog.application",
                                verbose_name="application",
                            ),
                        ),
                        (
                            "catalogue_category",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="catalogue_questionnaires",
                                to="helpdesk.category",
                                verbose_name="rubrique du catalogue",
                            ),
                        ),
                        (
                            "group",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="questionnaires",
                                to="members.operatorservice",
                                verbose_name="groupe",
                            ),
                        ),
                        (
                            "ticket_category",
                            models.ForeignKey(
                                blank=True,
                                help_text="Vide : la rubrique du catalogue.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="ticket_questionnaires",
                                to="helpdesk.category",
                                verbose_name="catégorie du ticket",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "formulaire de demande",
                        "verbose_name_plural": "formulaires de demande",
                        "ordering": ["position", "name"],
                        "db_table": "helpdesk_requestform",
                    },
                ),
                migrations.CreateModel(
                    name="Section",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="modifié le")),
                        ("title", models.CharField(max_length=150, verbose_name="titre")),
                        ("description", models.TextField(blank=True, verbose_name="description")),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="ordre")),
                        (
                            "questionnaire",
                            models.ForeignKey(
                                db_column="form_id",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sections",
                                to="questionnaires.questionnaire",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "section de formulaire",
                        "verbose_name_plural": "sections de formulaire",
                        "ordering": ["questionnaire", "position", "id"],
                        "db_table": "helpdesk_formsection",
                    },
                ),
                migrations.CreateModel(
                    name="Question",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="modifié le")),
                        (
                            "key",
                            models.SlugField(
                                help_text="Lettres minuscules, chiffres et tirets ; sert au modèle de titre et à l'API.",
                                verbose_name="identifiant",
                            ),
                        ),
                        ("label", models.CharField(max_length=250, verbose_name="libellé")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("text", "texte court"),
                                    ("long_text", "texte long"),
                                    ("number", "nombre"),
                                    ("date", "date"),
                                    ("choice", "choix unique"),
                                    ("multiple_choice", "choix multiple"),
                                    ("file", "fichier"),
                                ],
                                default="text",
                                max_length=16,
                                verbose_name="type",
                            ),
                        ),
                        ("required", models.BooleanField(default=False, verbose_name="obligatoire")),
                        ("help_text", models.CharField(blank=True, max_length=300, verbose_name="aide")),
                        (
                            "choices",
                            models.TextField(blank=True, help_text="Un choix par ligne.", verbose_name="choix"),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="ordre")),
                        (
                            "condition_value",
                            models.CharField(blank=True, max_length=200, verbose_name="a pour réponse"),
                        ),
                        (
                            "ticket_field",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("application", "application"),
                                    ("blocking", "bloquant"),
                                    ("urgency", "urgence"),
                                    ("impact", "impact"),
                                    ("category", "catégorie"),
                                ],
                                help_text=(
                                    "La réponse devient ce champ du ticket (et compte pour ses délais) ; question à "
                                    "choix unique dont les choix viennent du ticket : pour l'application, celles "
                                    "auxquelles la collectivité est abonnée."
                                ),
                                max_length=16,
                                verbose_name="renseigne le champ du ticket",
                            ),
                        ),
                        (
                            "condition_question",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="dependents",
                                to="questionnaires.question",
                                verbose_name="affichée seulement si la question",
                            ),
                        ),
                        (
                            "section",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="questions",
                                to="questionnaires.section",
                                verbose_name="section",
                            ),
                        ),
                        (
                            "questionnaire",
                            models.ForeignKey(
                                db_column="form_id",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="questions",
                                to="questionnaires.questionnaire",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "question de formulaire",
                        "verbose_name_plural": "questions de formulaire",
                        "ordering": ["section__position", "section_id", "position", "id"],
                        "db_table": "helpdesk_formquestion",
                        "constraints": [
                            models.UniqueConstraint(fields=("questionnaire", "key"), name="form_question_key_unique"),
                            models.UniqueConstraint(
                                condition=models.Q(("ticket_field", ""), _negated=True),
                                fields=("questionnaire", "ticket_field"),
                                name="form_question_ticket_field_unique",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
