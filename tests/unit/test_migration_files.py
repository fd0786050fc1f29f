"""The migration and views files keep the rules of sinks/postgres/migrations/README.md: a landed
migration never changes, a migration after 0022 defines no view or function, and each view and
function has exactly one definition, in sinks/postgres/views/."""
from __future__ import annotations

import re
from collections import Counter

from sinks.postgres.migrate import checksum, defined_objects, migration_files, view_files

# SHA-256 of each migration as it landed on main; schema_migrations holds the same on every database
# migrated since, so an edit here would stop `rcm up` on those databases.
LANDED = {
    "0001_tables.sql": "6083925cb24314aff518f6433d8a8a47e394405dd156111c8d33fa469450923e",
    "0002_work_queues.sql": "51a62a78f40da8fdab97c9e18fa283b3366d7ae3afb6b3d4471fb5ab21e1eca4",
    "0003_balance_outbox.sql": "59f9f28fb9090e028ee0643503e76c51f2a1b663f42fec0c47d92423c5def937",
    "0004_claim_warnings.sql": "40e3fa97223d4591dc54b70442999cb5270f91c397a17f35f626756fb0b32d79",
    "0005_drg_pcs.sql": "8801c35b2d7e90fb72d6d3bb49fe2964a2d508df6fecc0ee93d568271379b3ea",
    "0006_coding_decisions.sql": "2e45c1a5c34b97983ccaa91f87615f83193fe73d14fe21012c376e990acbf195",
    "0007_claim_status.sql": "97eb4f594700bb864b2b92e229a8f40a55b73f079e798f3da9059e96d7fd739f",
    "0008_x12.sql": "f119553b4ea67fc3163ec41852cbdc2eb6ced807975b3456d39fb24a6a44678d",
    "0009_ar_kpis.sql": "bee0d7d85f759098d4afe0fbda8a13d866c3be43d543c01b8b522b33eeee8781",
    "0010_kpi_daily.sql": "225dc8b5d095cde15e097736223461b1b140118620c353605087045dccd41b7d",
    "0011_first_pass_resolution.sql":
        "1c4990c6467fc25ddb8d132fd92607cf25449c9a5ab5c26d8c3fa09d2232bf57",
    "0013_denial_queues.sql": "4c6d2afcc2f06d12e76d1342e629d5c1a40b33f6e7f0ae2d8c16b0c309c1d037",
    "0014_claim_status_history.sql":
        "7d23880aa687b959f4bb3060cd60121a2a7ba0f49f4a136ccc1ed2b1089b940b",
    "0015_denial_appeals.sql": "a817a149d2f8e702c51170220d6c42be5b0f458581739b9f0038716d81832dd8",
    "0016_denial_root_causes.sql":
        "4390e980433d2dad2e93384668638f9fda0b8425cafc80ba689ea0811a092c28",
    "0017_kpi_stream.sql": "2bcb4addceabbe07fdb445226bfc69e80fbb59ee8f38780f521a1c7d337775c3",
    "0018_claim_versions.sql": "7467b02e75d7b5c6a741432bd442c7a8d425f131d639a14be710dcf53f722e8f",
    "0019_claim_history_transitions.sql":
        "9d7353b7e442d565c90c1b2026de8169fd72722b9558cca700926b6a69ede226",
    "0020_claims_submitted.sql":
        "22ecbe5d6bbed4335ee4e03e7e3bf8a66d00867f9c05530468a820ebb27a6fb7",
    "0021_x12_remittances_status.sql":
        "8701bf67feb38e367b99918cd414db625ed69306494626159c3f83fe013266e6",
    "0022_x12_set_acknowledgements.sql":
        "a709e03dba55276190c5b400951fbf6a20b30b809740b3d17df4271f4326d3b6",
}
CREATES = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(VIEW|FUNCTION|MATERIALIZED\s+VIEW)\b",
                     re.IGNORECASE | re.MULTILINE)


def test_landed_migrations_keep_the_text_they_landed_with():
    files = dict(migration_files())
    assert {name: checksum(files.get(name, "")) for name in LANDED} == LANDED


def test_migrations_are_numbered_once_each():
    numbers = Counter(name[:4] for name, _ in migration_files())
    assert [n for n, count in numbers.items() if count > 1 or not n.isdigit()] == []


def test_migrations_after_0022_create_no_view_or_function():
    offenders = [name for name, sql in migration_files() if name > "0023" and CREATES.search(sql)]
    assert offenders == [], "views and functions belong in sinks/postgres/views/"


def test_each_view_and_function_is_defined_once_and_only_with_create_or_replace():
    views = view_files()
    assert views, "sinks/postgres/views/ has no .sql file"
    names = Counter(name for _, name in defined_objects(views))
    assert [name for name, count in names.items() if count > 1] == []
    plain = [name for name, sql in views
             for m in CREATES.finditer(sql) if not m.group(1)]
    assert plain == [], "a views file re-applied on every migrate must CREATE OR REPLACE"
