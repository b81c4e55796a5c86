"""The interface strings the booth's script shows, translated on the server for the page's language.

``static/booth/page.js`` has no catalogue of its own: the page carries these, already in its
language, in its data element. Placeholders are ``%(name)s``, filled in by the script.
"""

from __future__ import annotations

from saylau.web.rendering import Page

__all__ = ["SCRIPT_MESSAGES", "script_messages"]


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a no-op marker)
    """Mark a message for extraction (``make messages``)."""
    return message


SCRIPT_MESSAGES: dict[str, str] = {
    "signing_in": N_("Checking your credential…"),
    "signed_in": N_("Signed in. You have not voted yet: choose on the next screen."),
    "bad_credential": N_("This credential was not accepted: %(detail)s"),
    "bad_revote_tag": N_("The revote tag must be 64 hexadecimal characters (0–9, a–f), as printed with your credential."),  # noqa: E501
    "choose_first": N_("Choose one option before you continue."),
    "choose_n": N_("Choose exactly %(n)s options in “%(contest)s” before you continue."),
    "encrypting": N_("Your browser is encrypting your ballot and building its proofs. Nothing has been sent."),  # noqa: E501
    "encrypted": N_("Encrypted in %(ms)s ms. Your ballot is NOT cast yet."),
    "encrypt_failed": N_("Your browser could not encrypt the ballot (%(detail)s). Nothing was sent; try again or ask for help."),  # noqa: E501
    "casting": N_("Sending your encrypted ballot… It is not cast until the server confirms."),
    "cast_done": N_("Your vote has been cast."),
    "chain_moved": N_("Another ballot reached this channel first, so your ballot was encrypted again with a new tracking code. It is NOT cast yet: check the new code, then cast or challenge."),  # noqa: E501
    "chain_busy": N_("The server kept receiving other ballots first. Nothing was cast. Press “Encrypt” again in a moment."),  # noqa: E501
    "refused": N_("The server refused this ballot: %(detail)s. Your vote has NOT been cast."),
    "network": N_("The server could not be reached. Your vote has NOT been cast. Check the connection and try again."),  # noqa: E501
    "challenging": N_("Opening your ballot and publishing it as challenged…"),
    "challenged": N_("Challenged: this ballot is opened and will never be counted. You have not voted yet."),
    "kiosk_signing_in": N_("Signing the commission in…"),
    "kiosk_signed_in": N_("Commission signed in at station %(station)s."),
    "kiosk_not_station": N_("Only a polling-station commission can start a kiosk."),
    "device_ready": N_("This kiosk is booth device %(device)s (%(count)s ballots so far)."),
    "device_failed": N_("The booth device could not be set up: %(detail)s"),
    "checking_in": N_("Checking the voter in…"),
    "checkin_failed": N_("The voter could not be checked in: %(detail)s"),
    "handoff_other": N_("this is not the credential of a voter checked in at this station"),
    "voter_started": N_("The booth is ready for the voter. They have not voted yet."),
    "resumed": N_("The page was reloaded: the choice was not kept. Nothing has been cast; choose again."),
}
"""Message id → English text (the gettext message id)."""


def script_messages(page: Page) -> dict[str, str]:
    """Every script message in the page's language."""
    return {key: page.gettext(text) for key, text in SCRIPT_MESSAGES.items()}
