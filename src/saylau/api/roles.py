"""Who may call which endpoint: the one table the server and its tests both read.

Roles: ``cec`` (central election commission administrator), ``station`` (polling-station commission,
bound to its station), ``guardian`` (bound to its index), ``pollster``, ``observer``, ``voter`` (a
credential issued by the pollbook) and ``public`` (no token). An endpoint open to ``public`` needs no token.
Station and guardian bindings are checked inside the endpoints (a commission acts only for its station).
"""

from __future__ import annotations

__all__ = ["ALL_ROLES", "ENDPOINT_ROLES", "LOGIN_ROLES", "PUBLIC"]

PUBLIC = "public"
LOGIN_ROLES = frozenset({"cec", "station", "guardian", "pollster", "observer"})
ALL_ROLES = frozenset({*LOGIN_ROLES, "voter", PUBLIC})
_ANY = ALL_ROLES

ENDPOINT_ROLES: dict[str, frozenset[str]] = {
    "login": _ANY,
    "me": frozenset(ALL_ROLES - {PUBLIC}),
    "create_user": frozenset({"cec"}),
    "list_users": frozenset({"cec"}),
    "create_election": frozenset({"cec"}),
    "list_elections": _ANY,
    "get_election": _ANY,
    "open_election": frozenset({"cec"}),
    "close_election": frozenset({"cec"}),
    "submit_application": frozenset({"cec"}),
    "decide_application": frozenset({"cec"}),
    "appeal_application": frozenset({"cec"}),
    "upload_signatures": frozenset({"cec"}),
    "list_applications": _ANY,
    "import_roll": frozenset({"cec"}),
    "roll_counts": _ANY,
    "issue_transfer": frozenset({"cec", "station"}),
    "check_in": frozenset({"station"}),
    "remote_credential": frozenset({"cec"}),
    "post_guardian_record": frozenset({"guardian"}),
    "list_guardians": _ANY,
    "post_shares": frozenset({"guardian"}),
    "get_shares": frozenset({"guardian"}),
    "finish_guardian": frozenset({"guardian"}),
    "make_joint_key": frozenset({"cec"}),
    "ceremony_progress": _ANY,
    "cast_ballot": frozenset({"voter"}),
    "cast_ballot_batch": frozenset({"station"}),
    "challenge_ballot": frozenset({"voter"}),
    "register_device": frozenset({"station"}),
    "list_devices": _ANY,
    "submit_turnout": frozenset({"station"}),
    "list_turnout": _ANY,
    "list_stations": _ANY,
    "register_station_key": frozenset({"cec"}),
    "submit_protocol": frozenset({"station"}),
    "list_protocols": _ANY,
    "start_tally": frozenset({"cec"}),
    "get_tally": _ANY,
    "post_partial_decryption": frozenset({"guardian"}),
    "get_partial_decryption": _ANY,
    "start_decryption": frozenset({"cec"}),
    "get_results": _ANY,
    "download_record": _ANY,
    "start_verification": frozenset({"cec", "observer"}),
    "verification_status": _ANY,
    "download_board": _ANY,
    "lookup_code": _ANY,
    "upload_design": frozenset({"pollster"}),
    "upload_interviews": frozenset({"pollster"}),
    "exit_poll_estimate": _ANY,
    "own_exit_poll": frozenset({"pollster"}),
    "get_job": frozenset({"cec", "observer", "guardian", "station", "pollster"}),
    "resume_job": frozenset({"cec"}),
    "publish_audit_manifest": frozenset({"cec"}), "start_audit": frozenset({"cec"}), "enter_audit_tallies": frozenset({"cec"}), "enter_audit_full_count": frozenset({"cec"}), "get_audit": _ANY,  # noqa: E501
}
