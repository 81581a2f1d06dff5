"""The spam enricher's rules, each firing and not firing, on hand-written posts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from socialaudit.enrich import spam
from socialaudit.enrich.base import REGISTRY

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def reasons(text: str) -> tuple[str, ...]:
    (verdict,) = spam.judge([text])
    return verdict.reasons if verdict.is_spam else ()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Check out my new channel, I upload minecraft lets plays every day!", "self_promotion"),
        ("sub 4 sub anyone? I sub back", "self_promotion"),
        ("Please subscribe guys, it means a lot", "self_promotion"),
        ("Follow me on instagram @djmaxx for more", "self_promotion"),
        ("LIKE THIS COMMENT SO EVERYONE SEES IT", "engagement_bait"),
        ("Check out this video on YouTube:", "share_template"),
        ("WIN A FREE IPHONE 15, claim your prize today", "giveaway"),
        ("I make $500 a day working from home, ask me how", "money"),
        ("@Delta cheap followers and likes, link in bio", "injected_promotion"),
        ("best deals here http://www.cheap-watches-store.com/sale", "link"),
        ("http://www.gofundme.com/help-my-band", "promo_link"),
    ],
)
def test_each_rule_fires(text: str, rule: str) -> None:
    assert rule in reasons(text)


@pytest.mark.parametrize(
    "text",
    [
        # YouTube-style comments that talk about the video, not about the commenter.
        "This song is stuck in my head all day, love it",
        "Who's watching in 2015? still a masterpiece",
        "2:19 best part http://www.youtube.com/watch?v=KQ6zr6kCPj8&t=2m19s",
        # Weak cues alone stay below the threshold.
        "check this out, the dancing at 1:50 is hilarious",
        "my channel guide is blank since the update",
        "@XboxSupport do you need game pass to get the gift from the giveaway?",
    ],
)
def test_ordinary_comments_are_not_spam(text: str) -> None:
    assert reasons(text) == ()


# Customer care as it reads in TWCS: links to orders and help pages, "follow and DM us",
# subscriptions, codes and prices. None of it is spam.
TWCS_STYLE = [
    (
        "115712",
        False,
        (
            "@AmazonHelp my order never came https://www.amazon.com/gp/your-account/"
            "order-details?orderID=112-555 please help"
        ),
    ),
    (
        "AmazonHelp",
        True,
        (
            "@115712 Sorry! Please check https://www.amazon.com/gp/help/customer/"
            "display.html?nodeId=201910 and follow us so we can DM you."
        ),
    ),
    ("sprintcare", True, "@115713 Please follow and DM us your account number. ^HSB"),
    ("115714", False, "@hulu_support I was charged for a subscription and didn't sign up for it"),
    ("115715", False, "@Uber_Support used my promo code and still got charged $25, why?"),
    ("115716", False, "@AmazonHelp since when do you stop giving 20% off pre-orders?"),
    ("115717", False, "@Ask_Spectrum why should I pay $171 per month? https://t.co/U6ptkQa5Ik"),
    ("115718", False, "@ComcastCares I'm having trouble viewing my channels on my tv"),
    ("115719", False, "@AppleSupport Will you follow me on twitter so I can DM you?"),
    ("115720", False, "@SpotifyCares the buttons on my headphones don't pause my music anymore"),
    ("115721", False, "@AmericanAir check this out https://t.co/9fj3KkLl0q my seat is broken"),
    ("115722", False, "@Ask_Spectrum you won't DM me so I'm going to call instead"),
    (
        "XboxSupport",
        True,
        "Don't miss the chance to win an Xbox One X! Follow and RT #XboxGiveaway",
    ),
    ("115723", False, "@British_Airways Changes so you can make money!! No loyalty at all"),
    ("AppleSupport", True, "@115724 Check out this video for the steps: https://t.co/abcDEF123"),
]


def test_customer_care_posts_are_not_spam() -> None:
    authors = [a for a, _, _ in TWCS_STYLE]
    orgs = [o for _, o, _ in TWCS_STYLE]
    verdicts = spam.judge([t for _, _, t in TWCS_STYLE], authors, orgs)
    flagged = [
        (t, v.reasons) for (_, _, t), v in zip(TWCS_STYLE, verdicts, strict=True) if v.is_spam
    ]
    assert flagged == []


def test_customer_care_without_author_or_org_columns_is_not_spam() -> None:
    """``classify`` input has text only: customer posts still must not be flagged."""
    texts = [t for _, org, t in TWCS_STYLE if not org]
    assert [v.is_spam for v in spam.judge(texts)] == [False] * len(texts)


CAMPAIGN = "Hey everyone I just found the best way to lose weight fast, it changed my life"


def test_near_duplicate_campaign_across_many_authors() -> None:
    # Five authors paste one text with a link, copies differing in case, punctuation, a handle
    # and a word: a campaign.
    text = CAMPAIGN + " https://t.co/AbCdEf1234"
    posts = [
        text,
        text.upper() + "!!!",
        "@Delta " + text.replace("fast", "quickly"),
        text.replace("Hey everyone", "Hi all"),
        text + " #blessed",
    ]
    authors = ["a1", "a2", "a3", "a4", "a5"]
    verdicts = spam.judge(posts, authors)
    assert all(v.is_spam and v.reasons == ("near_duplicate",) for v in verdicts)
    assert spam.near_duplicates(posts, authors) == [5] * 5


def test_an_outage_is_not_a_campaign() -> None:
    # Many customers, one complaint, no link: the near-duplicate is noted, the posts are kept.
    posts = [f"@AcmeHelp my internet has been down since this morning {e}" for e in "!?.😡🙄😤"]
    verdicts = spam.judge(posts, [f"c{i}" for i in range(len(posts))])
    assert not any(v.is_spam for v in verdicts)
    assert all(v.reasons == ("near_duplicate",) for v in verdicts)


def test_near_duplicate_by_a_few_authors_is_a_cue_not_a_verdict() -> None:
    # Customers do send the same complaint in the same words: alone, that is not spam ...
    complaint = "@AcmeHelp my order has not arrived and the tracking page has not moved in days"
    verdicts = spam.judge([complaint, complaint, complaint], ["c1", "c2", "c3"])
    assert not any(v.is_spam for v in verdicts)
    assert all(v.reasons == ("near_duplicate",) for v in verdicts)
    # ... but it tips a weak cue (a bare "check this out") over the threshold.
    bait = "check this out guys, this is the best video I have seen all year long"
    assert all(v.is_spam for v in spam.judge([bait, bait], ["u1", "u2"]))
    assert not spam.judge([bait], ["u1"])[0].is_spam


def test_near_duplicate_needs_different_authors() -> None:
    # One author repeating themself, and classify input without authors, are not campaigns.
    assert not any(v.is_spam for v in spam.judge([CAMPAIGN, CAMPAIGN + "!"], ["a1", "a1"]))
    assert not any(v.is_spam for v in spam.judge([CAMPAIGN, CAMPAIGN], [None, None]))


def test_near_duplicate_ignores_short_phrases_and_different_texts() -> None:
    short = ["thank you so much!", "Thank you so much"]
    assert not any(v.is_spam for v in spam.judge(short, ["a1", "a2"]))
    other = "My flight from Boston to Chicago was cancelled and nobody told me anything"
    assert not any(v.is_spam for v in spam.judge([CAMPAIGN, other], ["a1", "a2"]))


def test_brand_templates_are_not_campaigns() -> None:
    reply = "@{} We're sorry to hear this. Please DM us your order number so we can look into it."
    posts = [reply.format(n) for n in (115801, 115802, 115803)]
    verdicts = spam.judge(posts, ["AmazonHelp", "AmazonUK", "AmazonHelp"], [True, True, True])
    assert not any(v.is_spam for v in verdicts)


def test_scores_combine_and_stay_in_range() -> None:
    weak, strong = spam.judge(["subscribe", "subscribe to my channel please http://bit.ly/x"])
    assert 0 < weak.score < spam.THRESHOLD
    assert spam.THRESHOLD < strong.score <= 1.0
    assert strong.reasons[:1] == ("self_promotion",)


def test_enricher_contract_and_registry() -> None:
    enricher = REGISTRY["spam"]()
    assert (enricher.name, enricher.target) == ("spam", "all")
    assert set(enricher.columns) == {"is_spam", "spam_score", "spam_reason"}
    batch = pa.table(
        {
            "text": ["Love this song!", "sub4sub http://bit.ly/abc", None],
            "author_id": ["u1", "u2", None],
            "is_org": [False, False, False],
        }
    )
    out = enricher.run(batch)
    assert out.label == ["not_spam", "spam", "not_spam"]
    assert out.columns["is_spam"] == [False, True, False]
    assert out.columns["spam_reason"] == [None, "self_promotion;promo_link", None]
    assert out.columns["spam_score"] == out.score
    assert out.score[0] == 0.0 and out.score[1] > 0.9


def test_twcs_sample_false_positive_rate() -> None:
    path = SHARED / "twcs" / "twcs_head5k.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (shared data not checked out)")
    import pandas as pd

    df = pd.read_csv(path, lineterminator="\n", dtype={"author_id": str})
    verdicts = spam.judge(
        df["text"].fillna("").tolist(), df["author_id"].tolist(), (~df["inbound"]).tolist()
    )
    assert sum(v.is_spam for v in verdicts) / len(verdicts) < 0.005


def test_customers_talking_about_their_own_music_are_not_promoting() -> None:
    text = "@AppleSupport I do not want to store music on my phone, why does it sync?"
    assert reasons(text) == ()
    assert "self_promotion" in reasons("I make chiptunes and 8bit music, give it a listen")


def test_comment_sections_make_weak_cues_decisive() -> None:
    text = "there is one video on my channel about my brother"
    (care,) = spam.judge([text])
    (comment,) = spam.judge([text], platforms=["youtube"])
    assert not care.is_spam
    assert comment.is_spam and "comment_promo" in comment.reasons
    # An ordinary comment stays clean in a comment section too.
    (plain,) = spam.judge(
        ["this song never gets old, 2:05 is the best part"], platforms=["YouTube"]
    )
    assert not plain.is_spam


def test_enricher_reads_the_platform_column() -> None:
    batch = pa.table(
        {
            "text": ["subscribe and check out my channel", "subscribe"],
            "author_id": ["u1", "u2"],
            "is_org": [False, False],
            "platform": ["youtube", "twitter"],
        }
    )
    out = REGISTRY["spam"]().run(batch)
    assert out.columns["is_spam"] == [True, False]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("check this out", "look_here"),
        ("my channel keeps freezing", "my_channel"),
        ("how do I subscribe to the premium plan?", "subscribe_word"),
        ("my songs disappeared from the library", "own_content"),
        ("who else is here for the giveaway", "giveaway_word"),
        ("@Delta look what happened http://www.news-site.example/story", "link"),
        ("the live version https://youtu.be/abc123 is better", "video_link"),
    ],
)
def test_weak_cues_fire_but_do_not_decide_alone(text: str, rule: str) -> None:
    (verdict,) = spam.judge([text])
    assert rule in verdict.reasons
    assert not verdict.is_spam


def test_two_weak_cues_decide() -> None:
    (verdict,) = spam.judge(["subscribe to the best gaming on my channel"])
    assert verdict.is_spam
    assert {"subscribe_word", "my_channel"} <= set(verdict.reasons)


# ---------------------------------------------------------------- issue 16: recall, batches


@pytest.mark.parametrize(
    "text",
    [
        "Check out our Channel for nice Beats!!",
        "PLEASSSSE SUBSCRIBEEEE MY CHANNNNNEL",
        "....subscribe......  ......to my........  .....channel.......",
        "Please give us a chance and check out the new music video on our channel!",
    ],
)
def test_elongated_and_group_self_promotion_is_spam_everywhere(text: str) -> None:
    # Spam in customer-care mode (as classify reads a bare file) and in a comment section.
    (care,) = spam.judge([text])
    (comment,) = spam.judge([text], platforms=["youtube"])
    assert care.is_spam and "self_promotion" in care.reasons
    assert comment.is_spam


def test_rule_text_undoes_elongation_and_filler() -> None:
    assert spam.rule_text("PLEASSSSE SUBSCRIBEEEE MY CHANNNNNEL") == "PLEASE SUBSCRIBE MY CHANEL"
    assert spam.rule_text("sub...to..my---channel") == "sub to my channel"
    # Doubled letters and single dots are words and sentences, left alone.
    assert spam.rule_text("Good job. See you soon") == "Good job. See you soon"


def _batch(texts: list[str], authors: list[str]) -> pa.Table:
    return pa.table(
        {
            "text": texts,
            "author_id": authors,
            "is_org": [False] * len(texts),
            "platform": ["twitter"] * len(texts),
        }
    )


def test_near_duplicates_span_batches_once_prepared() -> None:
    bait = "check this out guys, this is the best video I have seen all year long"
    first = _batch([bait, "my parcel is late again, third time this month"], ["u1", "c1"])
    second = _batch(
        ["totally unrelated words about a broken kettle here", bait + "!"], ["c2", "u2"]
    )
    # Batch by batch, each copy is alone in its batch: the campaign is missed ...
    alone = spam.SpamEnricher()
    assert alone.run(first).columns["is_spam"] == [False, False]
    # ... after a pass over the whole pending set, both copies are found, in either batch.
    enricher = spam.SpamEnricher()
    enricher.prepare(iter([first, second]))
    got_first, got_second = enricher.run(first), enricher.run(second)
    assert got_first.columns["is_spam"] == [True, False]
    assert got_second.columns["is_spam"] == [False, True]
    assert "near_duplicate" in str(got_first.columns["spam_reason"][0])


def test_duplicate_index_matches_the_one_batch_count() -> None:
    posts = [CAMPAIGN, CAMPAIGN.upper(), CAMPAIGN + " today", "short one", CAMPAIGN]
    authors = ["a", "b", "c", "d", "a"]
    index = spam.DuplicateIndex()
    index.add(posts[:2], authors[:2])
    index.add(posts[2:], authors[2:])
    assert index.counts(posts, authors) == spam.near_duplicates(posts, authors) == [3, 3, 3, 1, 3]


def test_runner_prepares_spam_over_every_batch(store, write_twcs) -> None:  # type: ignore[no-untyped-def]
    import socialaudit
    from socialaudit.enrich.runner import enrich

    bait = "check this out guys, this is the best video I have seen all year long"
    path = write_twcs(
        [
            (1, "101", True, 0, bait, None),
            (2, "102", True, 5, "my parcel is late again, third time this month", None),
            (3, "103", True, 9, bait + "!!", None),
        ]
    )
    socialaudit.import_file(path, store=store)
    enrich(store, ["spam"], batch_rows=1)  # one post a batch: the copies never share one
    flags = store.frame("SELECT post_id, is_spam FROM enrichments ORDER BY post_id")
    assert flags.is_spam.tolist() == [True, False, True]


def test_the_model_speaks_in_comment_sections_only() -> None:
    text = "Hii youtube friends, new here, hope to grow big one day, love u all"
    assert spam.model() is not None
    (care,) = spam.judge([text])
    assert "model" not in care.reasons
    p = spam.model_scores([text])[0]
    (comment,) = spam.judge([text], platforms=["youtube"])
    assert ("model" in comment.reasons) == (p >= spam._MODEL_MIN)


def test_model_scores_are_deterministic_and_per_text() -> None:
    texts = ["sub to my channel pls", "love this song so much", "sub to my channel pls"]
    first = spam.model_scores(texts)
    assert first == spam.model_scores(list(reversed(texts)))[::-1]
    assert first[0] == first[2] and first[0] > 0.9 > first[1]


UCI = (
    "\nCOMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
    'c1,Ann,2014-01-01T10:00:00,"I&#39;m a rapper<br />subscribe to my channel\ufeff",1\n'
    "c2,Bob,2014-01-01T10:05:00,this song never gets old &amp; never will,0\n"
)


def test_import_decodes_comment_html_and_keeps_the_raw_record(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import socialaudit

    path = tmp_path / "comments.csv"
    path.write_text(UCI, encoding="utf-8")
    assert socialaudit.import_file(path, store=store).format == "youtube_csv"
    posts = store.frame("SELECT post_id, text FROM posts ORDER BY post_id")
    assert posts.text.tolist() == [
        "I'm a rapper\nsubscribe to my channel",
        "this song never gets old & never will",
    ]
    raw = store.frame("SELECT post_id, raw FROM raw_records ORDER BY post_id")
    assert json.loads(raw.raw[0])["CONTENT"].startswith("I&#39;m a rapper<br />")


def test_classify_reads_a_uci_comment_file_as_youtube_comments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io

    from socialaudit.enrich.classify import classify_file

    path = tmp_path / "comments.csv"
    path.write_text(UCI, encoding="utf-8")
    out = io.StringIO()
    classify_file(path, spam.SpamEnricher(), text_column="CONTENT", out=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split(",")[-2] == "spam" and lines[-1].split(",")[-2] == "not_spam"
    # "the channel" talk decides in a comment section, not in customer care.
    text = tmp_path / "plain.csv"
    text.write_text("text\nthere is one video on my channel about my brother\n", encoding="utf-8")
    for platform, label in ((None, "not_spam"), ("youtube", "spam")):
        out = io.StringIO()
        classify_file(text, spam.SpamEnricher(), text_column="text", out=out, platform=platform)
        assert out.getvalue().splitlines()[1].split(",")[-2] == label


def test_an_index_never_misses_the_batch_it_is_asked_about() -> None:
    # Asked about posts it was not given, the index takes them in first.
    index = spam.DuplicateIndex()
    index.add([CAMPAIGN], ["a"])
    assert index.counts([CAMPAIGN + "!", "unrelated"], ["b", "c"]) == [2, 1]
    assert index.counts([CAMPAIGN], ["a"]) == [2]


def test_cli_classify_platform_option(runner, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "plain.csv"
    path.write_text("text\nthere is one video on my channel about my brother\n", encoding="utf-8")
    care = runner.invoke(app, ["classify", "spam", str(path)])
    comment = runner.invoke(app, ["classify", "spam", str(path), "--platform", "youtube"])
    assert care.exit_code == 0 and comment.exit_code == 0, care.output + comment.output
    assert ",not_spam," in care.stdout and ",spam," in comment.stdout
