"""saylau.record — the election record: its format, writer, reader and the independent verifier.

``format`` (file names, canonical bytes, base and record hashes), ``writer.write_record``,
``reader.RecordReader``, ``tally`` (station/region/nation sums and their decryption),
``board_check`` (the record against its bulletin board), ``revotes`` (revote links against revote tags),
``verifier.RecordVerifier`` / ``verify_record``, and ``demo.run_demo`` (a small election end to end).
The format is documented in ``docs/record-format.md``. Nothing here imports the server or the CLI.
"""
