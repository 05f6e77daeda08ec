from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mutualis.core"
    label = "core"
    verbose_name = _("Socle")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from mutualis.core.sqlite_statistics import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="core-sqlite-statistics")

        from mutualis.core.health import backup_metrics, jobs_metrics, scheduler_metrics
        from mutualis.core.metrics import collector_register

        collector_register("core.jobs", jobs_metrics)
        collector_register("core.scheduler", scheduler_metrics)
        collector_register("core.backup", backup_metrics)
        register_jobs()


def _database_tasks() -> bool:
    from django.conf import settings

    return bool(settings.TASKS.get("default", {}).get("BACKEND", "").startswith("django_tasks_db."))


def register_jobs() -> None:
    """Core's periodic jobs: the job reaper and the housekeeping of sessions and task results."""
    from mutualis.core.scheduler import Daily, Every, job_register

    job_register(
        "tasks_requeue_stale",
        command="tasks_requeue_stale",
        period=Every(minutes=5),
        description=_("remise en file des tâches abandonnées par un worker arrêté"),
        enabled=_database_tasks,
    )
    # Expired sessions stay in the table until someone deletes them.
    job_register(
        "clearsessions",
        command="clearsessions",
        period=Daily(3, 15),
        description=_("suppression des sessions expirées"),
    )
    # The API's idempotency keys are kept 24 hours (core.idempotency).
    job_register(
        "idempotency_keys_purge",
        command="idempotency_keys_purge",
        period=Daily(3, 50),
        description=_("oubli des clés d'idempotence de l'API de plus de 24 heures"),
    )
    # Finished task results pile up (docs/helpdesk.md); failed ones stay three months on the failed jobs page.
    job_register(
        "prune_db_task_results",
        command="prune_db_task_results",
        period=Daily(3, 45),
        args=("--queue-name", "*", "--min-age-days", "30", "--failed-min-age-days", "90"),
        description=_("purge des résultats de tâches terminées (30 jours, 90 pour les échecs)"),
        enabled=_database_tasks,
    )
    # The nightly backup (docs/backups.md) at MUTUALIS_BACKUP_AT, into MUTUALIS_BACKUP_DIR of the
    # machine whose scheduler runs it; off: not scheduled (a systemd timer or cron runs it instead).
    from django.conf import settings

    if settings.BACKUP_AT is not None:
        job_register(
            "backup",
            command="backup",
            period=Daily(*settings.BACKUP_AT),
            description=_("sauvegarde de la base et des fichiers (mutualis backup)"),
        )
