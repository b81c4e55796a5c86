"""The strings the station console's script shows, and the control relations' names, translated.

``static/console/protocol.js`` has no catalogue: the page carries these in its data element, in the
page's language. Each relation's key is its name in ``saylau.election.protocols`` (the server's message
quotes that name), so the form and the server speak of the same relation.
"""

from __future__ import annotations

from saylau.election.protocols import RECONCILIATION, RELATIONS
from saylau.web.rendering import Page

__all__ = ["RELATION_LABELS", "SCRIPT_MESSAGES", "relation_labels", "script_messages"]


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a no-op marker)
    """Mark a message for extraction (``make messages``)."""
    return message


RELATION_LABELS: dict[str, str] = {
    RELATIONS[0]: N_("No figure is negative"),
    RELATIONS[1]: N_("Every option of the ballot has a figure"),
    RELATIONS[2]: N_("Ballots received = ballots issued + unused + spoiled"),
    RELATIONS[3]: N_("Valid + invalid ballots = ballots in the boxes"),
    RELATIONS[4]: N_("The votes for the options add up to the valid ballots"),
    RELATIONS[5]: N_("Ballots issued ≤ registered voters"),
    RELATIONS[6]: N_("Ballots in the boxes ≤ ballots issued"),
    RECONCILIATION[0]: N_("Registered voters = voters on the station's roll"),
    RECONCILIATION[1]: N_("Ballots issued ≤ voters checked in at the station"),
}
"""Relation name (as the server names it) → its label on the form."""

SCRIPT_MESSAGES: dict[str, str] = {
    "holds": N_("holds"),
    "fails": N_("fails: %(detail)s"),
    "empty": N_("not filled in yet"),
    "relations_fail": N_("The protocol cannot be signed: %(count)s control relations fail. Correct the figures first."),  # noqa: E501
    "no_key": N_("Choose the commission's key file and type its passphrase, or generate a key, before signing."),  # noqa: E501
    "key_chosen": N_("This key file names the public key %(key)s. Type its passphrase to open it."),
    "key_opening": N_("Opening the key file: deriving the key from the passphrase… %(progress)s"),
    "key_loaded": N_("Key opened. Its public key is %(key)s."),
    "key_generating": N_("Generating the key and protecting its file with the passphrase… %(progress)s"),
    "key_generated": N_("A new key was generated and downloaded as %(file)s, protected by your passphrase. Keep the file and the passphrase apart and safe: together they are the only copy of the key. Its public key, which the CEC registers for this station, is %(key)s."),  # noqa: E501
    "key_not_file": N_("This file is not a saylau key file (%(detail)s)."),
    "key_damaged": N_("This key file is damaged (%(detail)s). Use your backup copy."),
    "key_wrong_kind": N_("This file is not a station commission's protocol key (it is a key file of kind %(kind)s)."),  # noqa: E501
    "key_wrong_station": N_("This key file is for election %(election)s, station %(station)s, not for this station."),  # noqa: E501
    "key_wrong_passphrase": N_("Wrong passphrase: the key file did not open. Type the passphrase again."),
    "key_no_passphrase": N_("Type the passphrase of the key file."),
    "key_altered": N_("The key file was altered after it was written (its authentication tag fails): it cannot be trusted. Use your backup copy."),  # noqa: E501
    "key_no_webcrypto": N_("This browser cannot open key files on this page: the console must be served over HTTPS."),  # noqa: E501
    "pass_short": N_("The new passphrase needs at least %(n)s characters (a few words will do)."),
    "pass_differ": N_("The two passphrases differ: type the same passphrase twice."),
    "key_mismatch": N_("This key is not the one registered for the station (%(key)s)."),
    "reason_needed": N_("A correction needs a reason."),
    "signing": N_("Signing the protocol in this browser and sending it…"),
}
"""Message id → English text (the gettext message id)."""


def relation_labels(page: Page) -> dict[str, str]:
    """Each relation's label in the page's language."""
    return {name: page.gettext(text) for name, text in RELATION_LABELS.items()}


def script_messages(page: Page) -> dict[str, str]:
    """Every script message in the page's language."""
    return {key: page.gettext(text) for key, text in SCRIPT_MESSAGES.items()}
