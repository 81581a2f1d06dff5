"""Listening: the rule enrichers, the incremental runner, classify, and the metrics they enable.

The metric test is a hand-built conversation set whose actionable figures, deflection and
resolution are worked out by hand below.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

import socialaudit
from socialaudit.enrich import deflection, intent, resolution
from socialaudit.enrich.base import Labels, Target
from socialaudit.enrich.catalog import load
from socialaudit.enrich.runner import enrich, pending

# -- intent ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("@AmazonHelp where is my package?", ["question"]),
        ("@AmazonHelp how do I change my address", ["question"]),
        ("@Delta my flight was delayed 4 hours and nobody tells us anything", ["complaint"]),
        ("@Tesco the app keeps crashing, can you fix it?", ["question", "complaint"]),
        ("@AppleSupport thank you so much, that fixed it! 🙏", ["praise"]),
        ("@Uber_Support love the new update", ["praise"]),
        ("@sprintcare thanks in advance, any update on my ticket?", ["question"]),
        ("@British_Airways great, another delay. worst airline", ["complaint"]),
        ("@AmazonHelp order 123-4567", ["other"]),
        ("", ["other"]),
    ],
)
def test_intent_rules(text: str, labels: list[str]) -> None:
    assert intent.classify(text)[0] == labels


def test_intent_default_model_finds_complaints_without_complaint_words() -> None:
    text = "@AmazonHelp tracking says delivered yesterday but there is no parcel at my door"
    rules_only = intent.IntentEnricher("rules")
    default = intent.IntentEnricher()
    assert "complaint" not in rules_only.classify_many([text])[0][0]
    labels, cues = default.classify_many([text])[0]
    assert "complaint" in labels and "complaint_model" in cues
    assert default.version != rules_only.version
    # Praise stays praise; an empty post is other.
    thanks = "@AcmeHelp thank you, the crew was wonderful"
    assert default.classify_many([thanks, ""]) == [
        (["praise"], ["thanks", "compliment"]),
        (
            ["other"],
            [],
        ),
    ]


@pytest.mark.parametrize(
    ("text", "hints"),
    [
        (
            "@AcmeHelp where can I talk to someone about a double charge",
            {"wh_start", "wants_action"},
        ),
        ("@AcmeHelp why my phone keep restarting since the update", {"wh_start"}),
        ("@AcmeHelp so when u gonna fix the login page", {"wh_start"}),
        ("@AcmeHelp Change your hold music. It is awful", {"imperative_start"}),
        ("@AcmeHelp would like to know when the sale starts", {"wants_action"}),
        ("@AcmeHelp I need someone to look at my meter asap!", {"wants_action"}),
        ("@AcmeHelp cómo puedo cambiar mi contraseña", {"non_english_question"}),
        ("@AcmeHelp 注文はどこに届きますか", {"non_english_question"}),
        ("@c1 Have you restarted the router? ^JB", {"brand_voice"}),
        ("@c1 We'd love to help, just let us know what happened", {"brand_voice"}),
        ("@AcmeHelp do you guys even care?! no internet", {"exclaimed_question"}),
        ("@AcmeHelp thanks so much for your help", {"thanks_for_help"}),
        # Not asks: a resolution, a statement, thanks.
        ("@AcmeHelp thanks, sorted now!", set()),
        ("@AcmeHelp it works now", set()),
        ("@AcmeHelp the parcel came today", set()),
    ],
)
def test_question_hints(text: str, hints: set[str]) -> None:
    assert set(intent.cues(text).hints) == hints


def test_hints_feed_the_head_not_the_rules() -> None:
    """The rules variant ignores the hints; the default head reads them (intent-5)."""
    rules_only, default = intent.IntentEnricher("rules"), intent.IntentEnricher()
    asks = [
        "@AcmeHelp would like to know when the sale starts",
        "@AcmeHelp cómo puedo cambiar mi contraseña",
    ]
    assert [labels for labels, _ in rules_only.classify_many(asks)] == [["other"], ["other"]]
    assert all("question" in labels for labels, _ in default.classify_many(asks))
    # A brand's reply filed as a customer post: the rules see a question, the head does not.
    reply = "@c1 Have you restarted the router? ^JB"
    assert rules_only.classify_many([reply])[0][0] == ["question"]
    assert "question" not in default.classify_many([reply])[0][0]
    # "thanks for your help" is thanks, not a request for help.
    assert intent.classify("@AcmeHelp I sent the details. Thanks for your help")[0] == ["praise"]
    assert set(intent.CUE_NAMES) >= {r.name for r in intent.QUESTION_HINTS}
    assert intent.head("question")["features"][-len(intent.CUE_NAMES) :] == list(intent.CUE_NAMES)


def test_intent_names_the_rules_that_fired() -> None:
    labels, fired = intent.classify("@Delta lost my bag again! what now?")
    assert labels == ["question", "complaint"]
    assert "question_mark" in fired and "problem_word" in fired


# -- deflection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        ("@1 Hi there! Sorry to hear that. Please DM us your order number. ^EB", "only", "dm"),
        (
            "@1 We'd love to help. Send us a private message with details.",
            "only",
            "private_message",
        ),
        ("@1 Please email us at help@acme.com so we can look into this. -Jo", "only", "email"),
        ("@1 Give us a call at 1-800-555-0199 and we'll sort it out.", "only", "phone"),
        ("@1 Sorry! Please reach out here: https://t.co/abc ^MB", "only", "contact_link"),
        ("@1 Please reach out to @AcmeBank and they can help. ^AB", "only", "other_account"),
        (
            (
                "@1 The charge is a pending authorization and drops off in 3-5 days. "
                "If it does not, DM us."
            ),
            "asks",
            "dm",
        ),
        ("@1 To reset it, open Settings > Account and tap Reset. -EW", None, None),
        ("@1 Can you tell us a bit more about what's happening? ^EB", None, None),
        ("@1 Confirmation emails can take up to 24 hrs. ^Helen", None, None),
    ],
)
def test_deflection_rules(text: str, kind: str | None, rule: str | None) -> None:
    expected = {"only": deflection.ONLY, "asks": deflection.ASKS, None: None}[kind]
    got_kind, got_rules, score = deflection.classify_reply(text)
    assert got_kind == expected
    if rule is None:
        assert got_rules is None and score == 0.0
    else:
        assert rule in got_rules.split(";")
        assert score == (1.0 if kind == "only" else pytest.approx(0.5))


# -- resolution --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("@AcmeHelp thanks, sorted now!", True),
        ("@AcmeHelp that worked, cheers", True),
        ("@AcmeHelp it works now 👍", True),
        ("@AcmeHelp thanks but it still doesn't work", False),
        ("@AcmeHelp thanks for nothing", False),
        ("@AcmeHelp any news?", False),
        ("@AcmeHelp my order number is 1234", False),
    ],
)
def test_resolution_rules(text: str, resolved: bool) -> None:
    assert resolution.classify(text)[0] is resolved


# -- a hand-built conversation set -------------------------------------------------------------

# (tweet_id, author, inbound, minutes, text, parent)
ROWS = [
    # A: question + complaint, answered at 10 min by a reply that only moves to DM.
    (1, "c1", True, 0, "@AcmeHelp my order is late, where is it?", None),
    (2, "AcmeHelp", False, 10, "@c1 Sorry! Please DM us your order number. ^AB", 1),
    # A2: c1 answers the org (a new turn, praise: not actionable) and is answered.
    (3, "c1", True, 20, "@AcmeHelp thanks, sorted now!", 2),
    (4, "AcmeHelp", False, 25, "@c1 Glad we could help!", 3),
    # B: question answered with help at 10 min; the customer never writes again.
    (5, "c2", True, 30, "@AcmeHelp how do I reset my password?", None),
    (6, "AcmeHelp", False, 40, "@c2 Open Settings > Account and tap Reset password.", 5),
    # C: complaint, unanswered.
    (7, "c3", True, 50, "@AcmeHelp the app keeps crashing", None),
    # D: praise, unanswered: not actionable.
    (8, "c4", True, 60, "@AcmeHelp love the new update", None),
    # E: spam asking a question: not actionable.
    (9, "s1", True, 70, "@AcmeHelp want cheap followers? BUY NOW https://spam.example", None),
    # F: complaint answered at 20 min with help and a DM offer (asks, not only).
    (10, "c5", True, 80, "@AcmeHelp my card was charged twice", None),
    (
        11,
        "AcmeHelp",
        False,
        100,
        (
            "@c5 Sorry about that. The second charge is a pending authorization and drops off "
            "in 3-5 days. If it does not, DM us."
        ),
        10,
    ),
    # F2: c5 comes back unhappy (a new actionable turn, unanswered); F is not resolved.
    (12, "c5", True, 110, "@AcmeHelp still not gone, this is ridiculous", 11),
]


class KeywordSpam:
    """A stand-in spam enricher for the metric test (the real one has its own tests)."""

    name = "spam"
    version = "test-spam-1"
    target: Target = "all"
    columns = {"is_spam": "boolean", "spam_score": "float64"}

    def run(self, batch: pa.Table) -> Labels:
        flags = ["BUY NOW" in (t or "") for t in batch.column("text").to_pylist()]
        return Labels(
            label=["spam" if f else "ham" for f in flags],
            score=[1.0 if f else 0.0 for f in flags],
            columns={"is_spam": flags, "spam_score": [1.0 if f else 0.0 for f in flags]},
        )


@pytest.fixture
def conversations(write_twcs, store):
    socialaudit.import_file(write_twcs(ROWS), store=store)
    return store


def _enrich_all(store) -> None:
    enrich(store, enrichers=[load("intent"), load("deflection"), load("resolution"), KeywordSpam()])


def test_actionable_deflection_and_resolution_by_hand(conversations) -> None:
    _enrich_all(conversations)
    org = socialaudit.audit(conversations)["orgs"][0]
    assert org["org"] == "AcmeHelp"
    everything = org["responsiveness"]["all"]
    assert (everything["turns"], everything["answered"]) == (8, 4)
    # Actionable: A, B, C, F, F2 (not A2 praise, D praise, E spam).
    act = org["responsiveness"]["actionable"]
    assert act["turns"] == 5
    assert act["answered"] == 3
    assert act["response_rate"] == pytest.approx(0.6)
    assert act["frt_median_s"] == 600.0  # 600, 600, 1200
    assert act["backlog_24h"] == 0
    # Deflection over the 3 answered actionable turns: A only moves; F asks but helps.
    assert org["deflection_rate"] == pytest.approx(1 / 3)
    assert org["listening"]["asks_move_channel_rate"] == pytest.approx(2 / 3)
    assert org["listening"]["basis"] == "actionable"
    # Resolution: A's customer later says "thanks, sorted now!", but A's only reply moved the
    # channel: no public evidence of a fix, so A is deflected, not resolved. B is silent; F
    # comes back unhappy.
    assert org["resolution_rate"] == 0.0
    assert org["listening"]["resolved"] == 0


class ReadsResolved(resolution.ResolutionEnricher):
    """A resolution classifier that takes "done, sent" for a fix, as the issue saw one do."""

    version = "test-resolution-1"

    def run(self, batch: pa.Table) -> Labels:
        hits = [("done, sent" in t) or ("thanks" in t) for t in batch.column("text").to_pylist()]
        return Labels(
            label=["resolved" if h else "open" for h in hits],
            score=[float(h) for h in hits],
            columns={"resolved": hits, "resolution_rule": ["test" if h else None for h in hits]},
        )


def test_a_turn_answered_only_by_a_channel_move_is_not_resolved(store, tmp_path) -> None:
    from tests.replay import JO, KIM, M_ACME, m_status

    statuses = [
        # T1: the only reply asks for a DM; the customer's "done, sent" confirms the move.
        m_status("1", "10:00", "@AcmeHelp where is my order? it never arrived", JO),
        m_status("2", "10:10", "@jo Could you DM us your order number?", M_ACME, parent="1"),
        m_status("3", "10:20", "@AcmeHelp done, sent", JO, parent="2"),
        # T2: the first reply asks for a DM, a second one answers in public: resolved.
        m_status("4", "11:00", "@AcmeHelp where is my parcel? it is late", KIM),
        m_status("5", "11:05", "@kim Could you DM us your order number?", M_ACME, parent="4"),
        m_status(
            "6", "11:30", "@kim Found it: it is at the depot and arrives tomorrow.", M_ACME, "4"
        ),
        m_status("7", "11:40", "@AcmeHelp thanks, got it", KIM, parent="6"),
    ]
    (tmp_path / "statuses.json").write_text(json.dumps(statuses), encoding="utf-8")
    (tmp_path / "orgs.toml").write_text(
        '[[org]]\nid = "acme"\n[org.accounts]\nmastodon = ["AcmeHelp"]\n', encoding="utf-8"
    )
    socialaudit.import_file(tmp_path / "statuses.json", store=store)
    socialaudit.load_orgs(tmp_path / "orgs.toml", store=store)
    enrich(store, enrichers=[load("intent"), load("deflection"), ReadsResolved(), KeywordSpam()])
    org = socialaudit.audit(store)["orgs"][0]
    act = org["responsiveness"]["actionable"]
    assert (act["turns"], act["answered"]) == (2, 2)
    # Both first responses only move the channel.
    assert org["deflection_rate"] == 1.0
    # T1 has no public evidence of a fix; T2 does. Deflected and resolved at once only for T2,
    # whose second reply helped in public.
    assert org["listening"]["resolved"] == 1
    assert org["resolution_rate"] == 0.5


def test_actionable_is_null_without_spam_labels(conversations) -> None:
    enrich(conversations, ["intent", "deflection", "resolution"])
    org = socialaudit.audit(conversations)["orgs"][0]
    assert org["responsiveness"]["actionable"] is None
    assert org["listening"]["basis"] == "all"
    # Deflection is still measured, on all 4 answered turns: A only moves (A2's reply does not).
    assert org["deflection_rate"] == pytest.approx(1 / 4)


def test_nothing_enriched_reports_nulls(conversations) -> None:
    org = socialaudit.audit(conversations)["orgs"][0]
    assert org["responsiveness"]["actionable"] is None
    assert org["deflection_rate"] is None and org["resolution_rate"] is None


# -- the runner --------------------------------------------------------------------------------


def test_enrich_is_incremental_and_versioned(conversations, monkeypatch) -> None:
    first = enrich(conversations, ["intent", "deflection"])
    assert first.rows == {"intent": 8, "deflection": 4}
    assert enrich(conversations, ["intent", "deflection"]).total == 0
    # A new version of one enricher re-runs only that one.
    monkeypatch.setattr(deflection.DeflectionEnricher, "version", "deflection-rules-test")
    again = enrich(conversations, ["intent", "deflection"])
    assert again.rows == {"intent": 0, "deflection": 4}
    versions = conversations.frame(
        "SELECT DISTINCT deflection_version FROM enrichments WHERE deflection_version IS NOT NULL"
    )
    assert versions["deflection_version"].tolist() == ["deflection-rules-test"]
    mv = conversations.frame("SELECT model_version FROM enrichments WHERE post_id = '2'")
    assert "deflection=deflection-rules-test" in mv["model_version"][0]


def test_new_posts_are_enriched_next_time(conversations, write_twcs) -> None:
    enrich(conversations, ["intent"])
    socialaudit.import_file(
        write_twcs([(100, "c9", True, 200, "@AcmeHelp is the store open today?", None)], "new.csv"),
        store=conversations,
    )
    assert pending(conversations, load("intent")) == 1
    assert enrich(conversations, ["intent"]).rows == {"intent": 1}


class Exploding:
    name = "intent"
    version = "boom"
    target: Target = "customer"
    columns = {"intent": "string", "intents": "array<string>", "intent_score": "float64"}

    def __init__(self) -> None:
        self.calls = 0

    def run(self, batch: pa.Table) -> Labels:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("model crashed")
        n = batch.num_rows
        return Labels(
            ["x"] * n,
            [0.0] * n,
            {"intent": ["x"] * n, "intents": [["x"]] * n, "intent_score": [0.0] * n},
        )


def test_a_failing_enricher_leaves_the_store_as_it_was(conversations) -> None:
    enrich(conversations, ["intent"])
    before = conversations.frame("SELECT * FROM enrichments ORDER BY post_id")
    with pytest.raises(RuntimeError, match="model crashed"):
        enrich(conversations, enrichers=[Exploding()], batch_rows=2)
    after = conversations.frame("SELECT * FROM enrichments ORDER BY post_id")
    assert after.equals(before)


def test_unknown_enricher_is_a_clear_error(conversations) -> None:
    with pytest.raises(socialaudit.ConfigError, match="Unknown enricher 'mood'"):
        enrich(conversations, ["mood"])


# -- CLI: enrich, classify, audit --------------------------------------------------------------


def test_cli_enrich_then_nothing_to_do(runner, app, write_twcs, tmp_path) -> None:
    db = str(tmp_path / "cli.duckdb")
    assert runner.invoke(app, ["--db", db, "import", str(write_twcs(ROWS))]).exit_code == 0
    first = runner.invoke(app, ["--db", db, "enrich", "--only", "intent"])
    assert first.exit_code == 0, first.output
    assert "intent 8" in first.output
    second = runner.invoke(app, ["--db", db, "enrich", "--only", "intent"])
    assert "Nothing to enrich" in second.output


def test_cli_audit_enriches_first_unless_told_not_to(runner, app, write_twcs, tmp_path) -> None:
    db = str(tmp_path / "cli.duckdb")
    runner.invoke(app, ["--db", db, "import", str(write_twcs(ROWS))])
    bare = runner.invoke(app, ["--db", db, "audit", "--no-enrich", "--json"])
    assert json.loads(bare.stdout)["orgs"][0]["deflection_rate"] is None
    full = runner.invoke(app, ["--db", db, "audit", "--json"])
    assert full.exit_code == 0, full.output
    report = json.loads(full.stdout)
    assert report["enriched"]["intent"] and report["enriched"]["deflection"]
    assert report["orgs"][0]["deflection_rate"] is not None


def test_classify_csv_keeps_rows_and_adds_label_and_score(runner, app, tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        'id,body\n1,"@Acme where is my order?"\n2,"line one\rsecond line, thanks so much!"\n',
        encoding="utf-8",
        newline="",
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["classify", "intent", str(src), "--text-column", "body", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    import csv

    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["label"].split(";")[0] == "question"
    assert rows[1]["body"] == "line one\rsecond line, thanks so much!"
    assert rows[1]["label"] == "praise"
    assert float(rows[0]["score"]) > 0


def test_classify_jsonl_to_stdout(runner, app, tmp_path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"t": "@1 Please DM us your account number. ^EB"})
        + "\n"
        + json.dumps({"t": "@1 Tap Settings then Reset."})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["classify", "deflection", str(src), "--text-column", "t"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "t,label,score"
    assert lines[1].endswith(",only_moves_channel,1.0000")
    assert lines[2].endswith(",none,0.0000")


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("id,body\n1,hello\n", ["--text-column", "text"], "No column 'text'"),
        ("", [], "is empty"),
        ("id,text\n", [], "no rows"),
        (b"\x00\x01\x02binary", [], "binary"),
        ("id,text\n1,\n2,\n", [], "is empty in every row"),
    ],
)
def test_classify_bad_input_is_one_line_exit_2(runner, app, tmp_path, content, args, message):
    src = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", "intent", str(src), *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_classify_unknown_enricher(runner, app, tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("text\nhello\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", "mood", str(src)])
    assert result.exit_code == 2
    assert "Unknown enricher 'mood'" in result.output


# -- topics and FAQ ----------------------------------------------------------------------------

THEMES = {
    "password": [
        "how do I reset my password for the login page?",
        "can you help me reset the password on my login?",
        "where is the password reset link on the login screen?",
        "why does the login reject my new password?",
    ],
    "delivery": [
        "my package delivery is late again, the courier never came",
        "the delivery of my package is three days late",
        "courier marked the package delivered but the delivery never arrived",
        "late delivery again, package stuck at the courier depot",
    ],
    "design": [
        "love the new app design, the colours are beautiful",
        "the new design of the app looks beautiful, love the colours",
        "beautiful new colours in the app design, love it",
        "really love the beautiful design and colours of the new app",
    ],
}


def topic_rows() -> list[tuple]:
    """36 turns in three themes: password questions (every other one answered in 10 min),
    delivery complaints (all answered in 30 min), design praise (never answered)."""
    rows, tid, minute = [], 1000, 0
    for theme, texts in THEMES.items():
        for i in range(12):
            tid += 1
            minute += 60
            rows.append((tid, f"{theme}{i}", True, minute, f"@AcmeHelp {texts[i % 4]}", None))
            delay = {"password": 10 if i % 2 == 0 else None, "delivery": 30, "design": None}[theme]
            if delay is not None:
                rows.append((tid + 5000, "AcmeHelp", False, minute + delay, f"@{theme}{i} ok", tid))
    return rows


def test_topics_group_themes_and_flag_faq(write_twcs, store) -> None:
    socialaudit.import_file(write_twcs(topic_rows()), store=store)
    enrich(store, ["intent"])
    report = socialaudit.topics(store, org="AcmeHelp", k=3)
    by_theme = {}
    for topic in report["topics"]:
        theme = next(t for t in THEMES if any(t in term for term in topic["top_terms"][:3]))
        by_theme[theme] = topic
        assert topic["turns"] == 12
    assert set(by_theme) == set(THEMES)
    password, delivery, design = by_theme["password"], by_theme["delivery"], by_theme["design"]
    assert password["question_share"] == 1.0 and password["faq_candidate"]
    assert password["answered_share"] == 0.5 and password["frt_median_s"] == 600.0
    assert delivery["answered_share"] == 1.0 and delivery["frt_median_s"] == 1800.0
    assert not delivery["faq_candidate"] and not design["faq_candidate"]
    assert design["answered_share"] == 0.0 and design["frt_median_s"] is None
    assert all(e["permalink"].startswith("https://twitter.com/") for e in password["examples"])
    # Fitting again replaces the org's topics instead of adding to them.
    socialaudit.topics(store, org="AcmeHelp", k=3)
    assert store.frame("SELECT count(*) AS n FROM topics")["n"][0] == 3


def test_topics_need_enough_turns(conversations) -> None:
    with pytest.raises(socialaudit.MetricError, match="topics need at least 20"):
        socialaudit.topics(conversations, org="AcmeHelp")


def test_cli_topics_json_and_faq(runner, app, write_twcs, tmp_path) -> None:
    db = str(tmp_path / "t.duckdb")
    runner.invoke(app, ["--db", db, "import", str(write_twcs(topic_rows()))])
    result = runner.invoke(app, ["--db", db, "topics", "AcmeHelp", "-k", "3", "--faq", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [t["faq_candidate"] for t in report["topics"]] == [True]
    missing = runner.invoke(app, ["--db", db, "topics", "NoSuchOrg"])
    assert missing.exit_code == 2 and "No organization 'NoSuchOrg'" in missing.output


def test_parallel_workers_give_the_same_labels(write_twcs, tmp_path) -> None:
    frames = []
    for workers in (1, 2):
        with socialaudit.open(tmp_path / f"w{workers}.duckdb") as s:
            socialaudit.import_file(write_twcs(ROWS + topic_rows()), store=s)
            result = enrich(s, ["intent", "deflection"], workers=workers, batch_rows=7)
            assert result.rows == {"intent": 44, "deflection": 22}
            frames.append(s.frame("SELECT * FROM enrichments ORDER BY platform, post_id"))
    assert frames[0].equals(frames[1])
