"""The knowledge base's part of `load_demo`: fifteen articles on the demo applications (found by
their software, as the notices do), public or internal, written and published through the
knowledge services (versions, search index, audit), with a few readings. Loading again adds
nothing: each article is known by its title."""

from __future__ import annotations

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import Application
from mutualis.helpdesk.models import Category
from mutualis.knowledge import services
from mutualis.knowledge.models import Article, Audience

# (title, software the application runs or "" for a general article, category slug, audience,
#  readings, body)
ARTICLES: list[tuple[str, str, str, str, int, str]] = [
    (
        "Réinitialiser son mot de passe du portail agent",
        "LemonLDAP",
        "comptes-acces",
        Audience.PUBLIC,
        42,
        "Votre mot de passe donne accès à la messagerie, au portail et aux applications métier.\n\n"
        "## Étapes\n\n1. Sur la page de connexion du portail agent, choisissez **Mot de passe oublié**.\n"
        "2. Saisissez votre adresse de messagerie professionnelle.\n"
        "3. Ouvrez le lien reçu (valable 30 minutes) et choisissez un nouveau mot de passe de 12 caractères "
        "au moins.\n\nSi vous ne recevez pas le message, vérifiez le dossier *Indésirables* avant de faire une "
        "demande.",
    ),
    (
        "Activer la double authentification sur son téléphone",
        "LemonLDAP",
        "comptes-acces",
        Audience.PUBLIC,
        31,
        "La double authentification est obligatoire pour tous les agents.\n\n"
        "1. Installez une application d'authentification (FreeOTP, Aegis ou celle de votre téléphone).\n"
        "2. Dans le portail agent, ouvrez **Mon compte › Second facteur** et scannez le code affiché.\n"
        "3. Saisissez le code à six chiffres pour valider.\n\n"
        "Vous changez de téléphone ? Demandez la réinitialisation du second facteur à votre référent "
        "informatique.",
    ),
    (
        "Configurer sa messagerie sur un smartphone",
        "Zimbra",
        "installations-materiel",
        Audience.PUBLIC,
        27,
        "La messagerie se configure comme un compte **Exchange ActiveSync** :\n\n"
        "| Réglage | Valeur |\n|---|---|\n| Serveur | l'adresse indiquée par votre référent |\n"
        "| Identifiant | votre adresse de messagerie |\n| Mot de passe | celui du portail agent |\n\n"
        "Le calendrier et les contacts se synchronisent avec le même compte.",
    ),
    (
        "Les messages n'arrivent plus : boîte aux lettres pleine",
        "Zimbra",
        "incidents-applicatifs",
        Audience.PUBLIC,
        19,
        "Quand la boîte aux lettres atteint son quota, les nouveaux messages sont refusés.\n\n"
        "- Videz la **Corbeille** et le dossier **Envoyés** des pièces jointes volumineuses.\n"
        "- Déposez les fichiers partagés dans l'espace de partage plutôt qu'en pièce jointe.\n\n"
        "Le quota affiché en bas à gauche de la messagerie se met à jour en quelques minutes.",
    ),
    (
        "Partager un dossier avec un autre service",
        "Nextcloud",
        "",
        Audience.PUBLIC,
        15,
        "Dans l'espace de partage, cliquez sur l'icône de partage du dossier, puis saisissez le nom du "
        "service ou de l'agent.\n\nChoisissez les droits : **lecture seule** ou **modification**. Un lien "
        "public ne doit jamais contenir de données personnelles (RGPD).",
    ),
    (
        "Publier un formulaire de démarche en ligne",
        "Publik",
        "",
        Audience.PUBLIC,
        8,
        "Les formulaires du portail usagers sont créés par l'opérateur à partir de votre demande.\n\n"
        "Préparez : l'intitulé de la démarche, les pièces justificatives demandées, le service destinataire "
        "et le délai de réponse annoncé aux usagers. Le formulaire est publié après votre validation.",
    ),
    (
        "Enregistrer un courrier entrant",
        "Maarch",
        "",
        Audience.PUBLIC,
        11,
        "1. Numérisez le courrier depuis le copieur (profil *Courrier*).\n"
        "2. Dans le logiciel de gestion du courrier, le document apparaît dans **À qualifier**.\n"
        "3. Renseignez l'expéditeur, l'objet et le service destinataire, puis **Enregistrer et diffuser**.",
    ),
    (
        "Inscrire un enfant au périscolaire depuis l'espace familles",
        "Concerto",
        "",
        Audience.PUBLIC,
        9,
        "Les familles s'inscrivent en ligne ; l'agent valide l'inscription dans le logiciel enfance.\n\n"
        "Une inscription reste *en attente* tant que le dossier famille n'a pas d'attestation de quotient "
        "familial de l'année en cours.",
    ),
    (
        "Signer un document dans le parapheur électronique",
        "i-Parapheur",
        "",
        Audience.PUBLIC,
        23,
        "Ouvrez le dossier depuis le bureau **À traiter**, relisez les documents puis choisissez "
        "**Signer**. La signature utilise votre certificat ; sans certificat, demandez-le à votre référent.\n\n"
        "Un dossier rejeté repart à son émetteur avec votre motif.",
    ),
    (
        "Télétransmettre un acte au contrôle de légalité",
        "S²low",
        "",
        Audience.PUBLIC,
        17,
        "Les actes signés partent à la préfecture par le tiers de télétransmission.\n\n"
        "- Vérifiez la **nature** et la **classification** de l'acte avant l'envoi.\n"
        "- L'accusé de réception de la préfecture arrive en général dans l'heure.\n"
        "- Un acte en erreur n'est pas transmis : corrigez et renvoyez-le, il garde son numéro.",
    ),
    (
        "Préparer une séance du conseil municipal",
        "Webdelib",
        "",
        Audience.PUBLIC,
        6,
        "Créez la séance, rattachez les projets de délibération validés, puis générez la convocation et "
        "la note de synthèse. Les élus reçoivent leur convocation dans l'application de convocation "
        "dématérialisée.",
    ),
    (
        "Mandater une facture reçue sur Chorus Pro",
        "Civil-Net-Finances",
        "",
        Audience.PUBLIC,
        12,
        "Les factures déposées sur Chorus Pro arrivent chaque nuit dans le logiciel de finances.\n\n"
        "Rapprochez-les de l'engagement, contrôlez le service fait puis créez le mandat. Une facture sans "
        "engagement reste dans la corbeille des factures à traiter.",
    ),
    (
        "Ajouter une imprimante réseau sur son poste",
        "",
        "installations-materiel",
        Audience.PUBLIC,
        36,
        "Les imprimantes et copieurs se trouvent dans **Paramètres › Imprimantes** : choisissez "
        "*Ajouter une imprimante* puis celle de votre étage (le nom est collé sur le copieur).\n\n"
        "Une imprimante absente de la liste n'est pas encore déclarée : faites une demande d'installation.",
    ),
    (
        "Relancer le service d'impression des bulletins de paie",
        "printing",
        "incidents-applicatifs",
        Audience.INTERNAL,
        4,
        "Procédure interne de l'équipe hébergement.\n\n"
        "1. Vérifier la file d'impression sur le serveur d'impression.\n"
        "2. Purger les travaux bloqués de plus d'une heure.\n"
        "3. Relancer le service et prévenir la collectivité par un suivi sur son ticket.",
    ),
    (
        "Versement d'archives électroniques : contrôler un bordereau refusé",
        "as@lae",
        "",
        Audience.INTERNAL,
        3,
        "Un bordereau SEDA refusé par le système d'archivage donne son motif dans l'accusé de réception.\n\n"
        "Les refus les plus fréquents : profil d'archivage absent, empreinte d'un fichier différente, "
        "service versant inconnu. Corriger, puis reverser le même paquet.",
    ),
]


def load_knowledge() -> None:
    staff = User.objects.filter(role=Role.OPERATOR_STAFF, is_active=True).order_by("pk").first()
    if staff is None:
        return
    existing = set(Article.objects.values_list("title", flat=True))
    categories = {c.slug: c for c in Category.objects.all()}
    for title, software, category, audience, readings, body in ARTICLES:
        if title in existing:
            continue
        application = (
            Application.objects.filter(software__icontains=software).order_by("pk").first() if software else None
        )
        article = services.article_create(
            actor=staff,
            data={
                "title": title,
                "body": body,
                "application": application,
                "category": categories.get(category),
                "audience": audience,
            },
            publish=True,
        )
        for _ in range(readings):
            services.article_read(article=article)
