import json
import subprocess
import sys

import saylau.crypto
import saylau.crypto.hazmat.group


def test_crypto_imports_nothing_outside_crypto_and_errors() -> None:
    code = (
        "import json, sys, saylau.crypto, saylau.crypto.hazmat.dlog, saylau.crypto.hazmat.fixedbase;"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    modules = json.loads(out)
    forbidden = {"fastapi", "sqlalchemy", "typer", "starlette", "pydantic", "uvicorn"}
    assert not [m for m in modules if m.split(".")[0] in forbidden]
    ours = {m for m in modules if m.startswith("saylau")}
    allowed = {"saylau", "saylau.errors"}
    assert all(m in allowed or m.startswith("saylau.crypto") for m in ours), sorted(ours)


def test_public_api_is_explicit() -> None:
    exported = set(saylau.crypto.__all__)
    assert len(exported) == len(saylau.crypto.__all__)
    for name in exported:
        assert hasattr(saylau.crypto, name), name
    public = {n for n in vars(saylau.crypto) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(saylau.crypto, n)).__name__ == "module"}
    assert public - modules - exported == set()
    assert "Point" in saylau.crypto.hazmat.group.__all__
