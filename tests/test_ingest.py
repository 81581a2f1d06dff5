from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialaudit
from socialaudit.errors import ConfigError, SourceError
from tests.conftest import HEADER, TWCS_SAMPLE, twcs_csv, twcs_time

H = ",".join(HEADER)
T = "Tue Oct 31 22:10:47 +0000 2017"


def snapshot(store: socialaudit.Store) -> dict[str, int]:
    return {t: store.count(t) for t in ("posts", "accounts", "orgs", "imports", "quarantine")}


DIRTY = (
    H + "\n"
    f'1,AcmeHelp,False,{T},"@111 hi, there",2,3.0\n'  # line 2
    f'2,111,True,{T},"@AcmeHelp multi\nline ""quoted""",,1\n'  # lines 3-4
    f"3,111,True,{T},@AcmeHelp bare\rcarriage\r return,1,\n"  # line 5
    f"4,111,True,{T},too few fields\n"  # line 6: wrong number of fields
    f"5,111,maybe,{T},bad flag,,\n"  # line 7
    f"6,111,True,not a date,bad time,,\n"  # line 8
    f",111,True,{T},no id,,\n"  # line 9
    f"2,999,True,{T},duplicate id: first one wins,,\n"  # line 10
    f"7,111,True,{T},emoji 😁 and <script>alert(1)</script>,,abc\n"  # line 11: bad parent
    f"8,222,True,{T},fine,,\n"  # line 12
)


def test_dirty_file_counts_and_quarantine(tmp_path: Path, store: socialaudit.Store) -> None:
    path = tmp_path / "dirty.csv"
    path.write_bytes(DIRTY.encode())
    r = socialaudit.import_file(path, store=store)
    assert r.read == 10
    assert r.inserted == 4  # ids 1, 2, 3 and 8
    assert r.read == r.inserted + r.duplicates + r.quarantined
    assert r.duplicates == 1
    q = store.frame("SELECT record_no, line_no, reason, raw FROM quarantine ORDER BY record_no")
    assert list(q.itertuples(index=False, name=None))[0][:3] == (4, 6, "wrong number of fields")
    got = {(rec, line, reason) for rec, line, reason, _ in q.itertuples(index=False, name=None)}
    assert got == {
        (4, 6, "wrong number of fields"),
        (5, 7, "bad inbound flag"),
        (6, 8, "bad timestamp"),
        (7, 9, "missing post id"),
        (9, 11, "bad parent id"),
    }
    raw = json.loads(q[q.reason == "bad timestamp"].raw.iloc[0])
    assert raw["created_at"] == "not a date"
    texts = dict(store.frame("SELECT post_id, text FROM posts").itertuples(index=False))
    assert texts["2"] == '@AcmeHelp multi\nline "quoted"'
    assert texts["3"] == "@AcmeHelp bare\rcarriage\r return"
    assert set(texts) == {"1", "2", "3", "8"}


def test_bare_cr_at_chunk_edges(tmp_path: Path, store: socialaudit.Store, monkeypatch) -> None:
    from socialaudit.ingest import csvfile

    monkeypatch.setattr(csvfile, "_CHUNK", 7)
    body = H + "\n" + f'1,111,True,{T},"q\r\nr",,\n' + f"2,111,True,{T},x\r,,\n"
    body += f"3,111,True,{T},a\rb\rc\r\r,,\n"
    path = tmp_path / "cr.csv"
    path.write_bytes(body.encode())
    r = socialaudit.import_file(path, store=store)
    assert (r.read, r.inserted, r.quarantined) == (3, 3, 0)
    texts = dict(store.frame("SELECT post_id, text FROM posts").itertuples(index=False))
    assert texts == {"1": "q\r\nr", "2": "x\r", "3": "a\rb\rc\r\r"}


def test_reimport_inserts_nothing(write_twcs, store: socialaudit.Store) -> None:
    path = write_twcs([(1, "AcmeHelp", False, 0, "hi", None), (2, "9", True, 1, "@AcmeHelp x", 1)])
    first = socialaudit.import_file(path, store=store)
    again = socialaudit.import_file(path, store=store)
    assert (first.inserted, first.duplicates) == (2, 0)
    assert (again.inserted, again.duplicates, again.quarantined) == (0, 2, 0)
    assert store.count("posts") == 2
    imports = store.frame("SELECT read, inserted, duplicates, quarantined FROM imports")
    assert (imports.read == imports.inserted + imports.duplicates + imports.quarantined).all()


def test_first_one_stored_wins_across_files(write_twcs, store: socialaudit.Store) -> None:
    a = write_twcs([(1, "9", True, 0, "original", None)], "a.csv")
    b = write_twcs([(1, "9", True, 5, "changed later", None)], "b.csv")
    socialaudit.import_file(a, store=store)
    r = socialaudit.import_file(b, store=store)
    assert r.duplicates == 1
    assert store.frame("SELECT text FROM posts").text.tolist() == ["original"]


def test_orgs_derived_from_inbound_flag(write_twcs, store: socialaudit.Store) -> None:
    path = write_twcs(
        [
            (1, "AcmeHelp", False, 0, "hi", None),
            (2, "BetaCare", False, 0, "yo", None),
            (3, "9", True, 1, "@AcmeHelp", 1),
        ]
    )
    r = socialaudit.import_file(path, store=store)
    assert r.orgs_added == 2
    orgs = {o["org_id"]: o for o in socialaudit.list_orgs(store)}
    assert set(orgs) == {"AcmeHelp", "BetaCare"}
    assert orgs["AcmeHelp"]["accounts"] == "twitter:AcmeHelp"
    socialaudit.import_file(path, store=store)
    assert len(socialaudit.list_orgs(store)) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"name,age\nbob,3\n", "Cannot tell the format"),
        (b"tweet_id,author_id\n1,caf\xe9 " + b"x" * 100 + b"\n", "not UTF-8"),
    ],
)
def test_bad_files_leave_store_untouched(
    tmp_path: Path, write_twcs, store: socialaudit.Store, content: bytes, message: str
) -> None:
    socialaudit.import_file(write_twcs([(1, "9", True, 0, "keep me", None)]), store=store)
    before = snapshot(store)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        socialaudit.import_file(bad, store=store)
    assert snapshot(store) == before


def test_truncated_file(tmp_path: Path, write_twcs, store: socialaudit.Store) -> None:
    good = write_twcs([(i, "9", True, i, f"post number {i}, fine", None) for i in range(1, 50)])
    data = good.read_bytes()
    before = snapshot(store)
    for cut in (len(data) - 7, len(data) - 30):
        bad = tmp_path / "cut.csv"
        bad.write_bytes(data[:cut])
        with pytest.raises(SourceError, match="truncated"):
            socialaudit.import_file(bad, store=store)
        assert snapshot(store) == before
    # An unterminated quoted field at the end is a cut file too.
    bad.write_bytes(data + f'99,9,True,{T},"open quote and then nothing'.encode())
    with pytest.raises(SourceError, match="truncated"):
        socialaudit.import_file(bad, store=store)
    assert snapshot(store) == before


def test_missing_file(tmp_path: Path, store: socialaudit.Store) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        socialaudit.import_file(tmp_path / "nope.csv", store=store)


def test_twcs_header_without_required_column(tmp_path: Path, store: socialaudit.Store) -> None:
    p = tmp_path / "x.csv"
    p.write_text("tweet_id,author_id,created_at,text\n1,a,b,c\n")
    with pytest.raises(SourceError, match="Not a TWCS file"):
        socialaudit.import_file(p, store=store, format="twcs")


def test_generic_csv_mapping(tmp_path: Path, store: socialaudit.Store) -> None:
    p = tmp_path / "yt.csv"
    p.write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
        "c1,Ann,2014-01-19T00:10:39.8,Nice song @Band,0\n"
        'c2,Bob,2014-01-19 01:00:00,"Check out my channel, http://x.y/z",1\n'
        "c3,Cy,,no date,0\n"
    )
    r = socialaudit.import_file(
        p,
        store=store,
        mapping={"id": "COMMENT_ID", "author": "AUTHOR", "created_at": "DATE", "text": "CONTENT"},
        platform="youtube",
    )
    assert (r.read, r.inserted, r.quarantined) == (3, 2, 1)
    assert r.format == "csv"
    rows = store.frame(
        "SELECT post_id, platform, created_at, links, mentions FROM posts ORDER BY 1"
    )
    assert rows.platform.tolist() == ["youtube", "youtube"]
    assert str(rows.created_at[0]) == "2014-01-19 00:10:39.800000"
    assert list(rows.links[1]) == ["http://x.y/z"]
    assert list(rows.mentions[0]) == ["Band"]
    assert store.frame("SELECT reason FROM quarantine").reason.tolist() == ["missing timestamp"]


def test_generic_mapping_errors(tmp_path: Path, store: socialaudit.Store) -> None:
    p = tmp_path / "x.csv"
    p.write_text("A,B,C\n1,2,3\n")
    with pytest.raises(ConfigError, match="need --map"):
        socialaudit.import_file(p, store=store, mapping={"text": "A"})
    with pytest.raises(ConfigError, match="Unknown --map field"):
        socialaudit.import_file(p, store=store, mapping={"colour": "A"})
    with pytest.raises(SourceError, match="No column 'Z'"):
        socialaudit.import_file(
            p, store=store, mapping={"id": "A", "author": "B", "created_at": "Z"}
        )


def test_generic_jsonl(tmp_path: Path, store: socialaudit.Store) -> None:
    p = tmp_path / "x.jsonl"
    lines = [
        {"id": 1, "user": {"name": "ann"}, "ts": "2020-01-01T10:00:00Z", "body": "hi @acme"},
        {"id": 2, "user": {"name": "acme"}, "ts": 1577873400, "body": "hello", "re": 1},
        "not json",
        [1, 2],
        {"id": 3, "user": {"name": "bob"}, "ts": "garbage", "body": "x"},
    ]
    p.write_text("\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines) + "\n\n")
    mapping = {
        "id": "id",
        "author": "user.name",
        "created_at": "ts",
        "text": "body",
        "parent": "re",
    }
    r = socialaudit.import_file(p, store=store, mapping=mapping, platform="forum")
    assert (r.read, r.inserted, r.quarantined) == (5, 2, 3)
    q = store.frame("SELECT record_no, line_no, reason FROM quarantine ORDER BY record_no")
    assert list(q.itertuples(index=False, name=None)) == [
        (3, 3, "not a JSON object"),
        (4, 4, "not a JSON object"),
        (5, 5, "bad timestamp"),
    ]
    posts = store.frame("SELECT post_id, parent_id, created_at FROM posts ORDER BY 1")
    assert posts.parent_id.tolist()[1] == "1"
    assert str(posts.created_at[1]) == "2020-01-01 10:10:00"


@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} not present")
def test_twcs_sample_lands_intact(store: socialaudit.Store) -> None:
    r = socialaudit.import_file(TWCS_SAMPLE, store=store)
    assert (r.read, r.inserted, r.duplicates, r.quarantined) == (5000, 5000, 0, 0)
    text = store.frame("SELECT text FROM posts WHERE post_id = '3399'").text[0]
    assert text.startswith("@AskPayPal \r\rI just love")
    assert store.frame("SELECT count(*) AS n FROM posts WHERE parent_id LIKE '%.0'").n[0] == 0
    again = socialaudit.import_file(TWCS_SAMPLE, store=store)
    assert (again.inserted, again.duplicates) == (0, 5000)


row = st.tuples(
    st.integers(1, 30),  # id (collisions are duplicates)
    st.sampled_from(["AcmeHelp", "1", "2", "3"]),
    st.sampled_from(["True", "False", "maybe"]),
    st.sampled_from([twcs_time(5), twcs_time(90), "nonsense", ""]),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=20,
    ),
    st.one_of(st.none(), st.integers(1, 40)),
    st.booleans(),  # drop a field
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row, max_size=25))
def test_counts_always_reconcile(tmp_path_factory, rows) -> None:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for tid, author, inbound, created, text, parent, drop in rows:
        fields = [tid, author, inbound, created, text, "", "" if parent is None else parent]
        w.writerow(fields[:-2] if drop else fields)
    folder = tmp_path_factory.mktemp("h")
    path = folder / "h.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    s = socialaudit.open(folder / "s.duckdb")
    try:
        try:
            r = socialaudit.import_file(path, store=s)
        except SourceError:
            return  # e.g. a dropped last field makes the file look truncated: refused whole
        assert r.read == len(rows)
        assert r.read == r.inserted + r.duplicates + r.quarantined
        assert s.count("posts") == r.inserted
        ids = s.frame("SELECT post_id FROM posts").post_id
        assert ids.is_unique
        q = s.frame("SELECT record_no FROM quarantine").record_no
        assert q.is_unique and (q >= 1).all() and (q <= len(rows)).all()
        again = socialaudit.import_file(path, store=s)
        assert again.inserted == 0
    finally:
        s.close()


def test_twcs_csv_helper_roundtrip(write_twcs, store: socialaudit.Store) -> None:
    assert "tweet_id" in twcs_csv([])
    path = write_twcs([(5, "9", True, 0, "x", 4)])
    socialaudit.import_file(path, store=store)
    assert store.frame("SELECT parent_id FROM posts").parent_id[0] == "4"


def test_truncated_jsonl(tmp_path: Path, store: socialaudit.Store) -> None:
    p = tmp_path / "cut.jsonl"
    p.write_text('{"id": 1, "a": "x", "t": "2020-01-01"}\n{"id": 2, "a": "y", "t": "20')
    mapping = {"id": "id", "author": "a", "created_at": "t"}
    with pytest.raises(SourceError, match="truncated"):
        socialaudit.import_file(p, store=store, mapping=mapping)
    assert store.count("posts") == 0 and store.count("imports") == 0


def test_orgs_declared_before_their_posts(write_twcs, tmp_path: Path, store) -> None:
    toml = tmp_path / "orgs.toml"
    toml.write_text('[[org]]\nid = "acme"\n[org.accounts]\ntwitter = ["acmehelp"]\n')
    socialaudit.load_orgs(toml, store=store)
    path = write_twcs([(1, "AcmeHelp", False, 0, "hi", None), (2, "9", True, 1, "@AcmeHelp x", 1)])
    r = socialaudit.import_file(path, store=store)
    assert r.orgs_added == 0
    (org,) = socialaudit.list_orgs(store)
    assert (org["org_id"], org["accounts"], org["posts"]) == ("acme", "twitter:AcmeHelp", 1)
    assert socialaudit.audit(store)["orgs"][0]["responsiveness"]["all"]["turns"] == 1


def test_leading_blank_line_before_header(tmp_path: Path, store: socialaudit.Store) -> None:
    p = tmp_path / "yt.csv"
    p.write_text(
        "\nCOMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nc1,Ann,2014-01-19T00:10:39,hi,0\n"
        "c2,Bob,never,oops,1\n"
    )
    mapping = {"id": "COMMENT_ID", "author": "AUTHOR", "created_at": "DATE", "text": "CONTENT"}
    r = socialaudit.import_file(p, store=store, mapping=mapping, platform="youtube")
    assert (r.read, r.inserted, r.quarantined) == (2, 1, 1)
    q = store.frame("SELECT record_no, line_no, reason FROM quarantine")
    assert list(q.itertuples(index=False, name=None)) == [(2, 4, "bad timestamp")]
