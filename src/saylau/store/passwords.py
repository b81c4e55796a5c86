"""The password policy of server logins (the API's ``POST /users`` and ``saylau user add`` alike).

After NIST SP 800-63B §5.1.1.2: length first (at least ``MIN_LENGTH`` characters, spaces allowed, so a
passphrase of a few words passes), no composition rules, and a refusal of passwords that guessers try
first: all digits (an 8-digit number was accepted for the CEC), one repeated character or too few
distinct characters, a keyboard or digit run, the login name itself, and a short list of the most
common passwords (``COMMON``, compared case-insensitively and without spaces). Online guessing is
throttled apart (``saylau.api.logins``); argon2id makes offline guessing costly.
"""

from __future__ import annotations

__all__ = ["COMMON", "MAX_LENGTH", "MIN_LENGTH", "check_password"]

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_DISTINCT = 5

COMMON = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd",
        "p@ssword", "qwerty", "qwerty123", "qwertyuiop", "qwertyuiop123", "asdfghjkl", "zxcvbnm",
        "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedc", "iloveyou", "iloveyou123", "letmein", "letmein123",
        "welcome", "welcome123", "welcome1234", "admin", "admin123", "admin1234", "administrator",
        "administrator1", "changeme", "changeme123", "default", "secret", "secret123", "trustno1", "monkey",
        "dragon", "football", "baseball", "superman", "batman", "master", "sunshine", "princess", "shadow",
        "michael", "jennifer", "abc123", "abcdef123456", "abcdefghijkl", "abcdefghijklmnop", "qwertyqwerty",
        "passwordpassword", "adminadmin", "rootroot", "toor", "root123", "election", "election2022",
        "election2024", "elections", "saylau", "saylau123", "saylaupassword", "kazakhstan", "kazakhstan2022",
        "kazakhstan123", "astana", "astana2022", "almaty", "almaty2022", "qazaqstan", "president",
        "president2022", "cec", "cec12345", "cecpassword", "commission", "commission123", "vote", "vote2022",
        "voting", "voting2022", "ballot", "ballot2022", "guardian", "guardian123", "station", "station123",
        "observer", "observer123", "pollster", "pollster123", "correcthorsebatterystaple",
    }
)
"""Among the most used passwords in public breach lists, and this domain's obvious ones (folded)."""

_RUNS = ("0123456789" * 2, "9876543210" * 2, "qwertyuiopasdfghjklzxcvbnm", "abcdefghijklmnopqrstuvwxyz")


def check_password(password: str, username: str = "") -> None:
    """Raise ``ValueError`` naming the field and the rule a password breaks (never echoing it)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"field 'password': at least {MIN_LENGTH} characters (a few words will do)")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"field 'password': at most {MAX_LENGTH} characters")
    folded = "".join(password.lower().split())
    if folded.isdigit():
        raise ValueError("field 'password': all digits; use words or a mix of characters")
    if len(set(folded)) < MIN_DISTINCT:
        raise ValueError(f"field 'password': fewer than {MIN_DISTINCT} different characters")
    if folded in COMMON or folded.rstrip("0123456789!.?") in COMMON:
        raise ValueError("field 'password': a commonly used password; choose another")
    if any(folded in run for run in _RUNS):
        raise ValueError("field 'password': a keyboard or alphabet run; choose another")
    name = "".join(username.lower().split())
    if name and (name in folded and len(folded) - len(name) < MIN_LENGTH):
        raise ValueError("field 'password': built on the username; choose another")
