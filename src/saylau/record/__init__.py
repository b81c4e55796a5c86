"""saylau.record — the election record: its format, writer, reader and the independent verifier.

``format`` (file names, canonical bytes, base and record hashes), ``writer.write_record``,
``reader.RecordReader``, ``tally`` (station/region/nation sums and their decryption),
``board_check`` (the record against its bulletin board), ``board_payloads`` (the board payloads the
record implies, built by the verifier from ``docs/board-format.md``), ``board_published`` (guardian
records, partial decryptions, station keys, turnout and protocols on the board), ``windows`` (each
station's voting hours), ``revotes`` (revote links against revote tags), ``verifier.RecordVerifier`` /
``verify_record``, and ``demo.run_demo`` with ``demo_day`` (a small election end to end, on the
simulated day's clock).
The format is documented in ``docs/record-format.md``. Nothing here imports the server or the CLI.
"""
