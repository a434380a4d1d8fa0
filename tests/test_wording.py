"""The wording check for rejection notes: risky phrasing is flagged, ordinary wording is not."""

import json

import pytest
from click.testing import CliRunner

from recruiter.rejections.commands import check_note_command
from recruiter.rejections.wording import (
    CATEGORIES,
    Finding,
    blocking,
    check_note,
    load_rules,
    summary,
)

RISKY = [
    ("Unfortunately you were not good enough for this role.", "tone"),
    ("Frankly, the take-home did not show much.", "tone"),
    ("You clearly lacked basic SQL knowledge.", "tone"),
    ("Honestly, the final interview was a waste of time.", "tone"),
    ("Your system design answer was disappointing.", "tone"),
    ("Better luck next time!", "tone"),
    ("You are a bit too old for our young and energetic team.", "age"),
    ("We were hoping to hire a digital native for this role.", "age"),
    ("We were looking for a recent graduate who can grow with us.", "age"),
    ("Given your age, the pace here may not suit you.", "age"),
    ("In the end we went with a younger profile.", "age"),
    ("Honestly you may be too experienced for a team like ours.", "age"),
    ("We worried you might be set in your ways.", "age"),
    ("The other candidate was stronger in system design.", "comparison"),
    ("We have hired someone more qualified.", "comparison"),
    ("The successful candidate had more experience with Kafka than you.", "comparison"),
    ("Compared to the other finalists, your answers were thin.", "comparison"),
    ("You ranked third of the five people we interviewed.", "comparison"),
    ("You scored 4/10 on the coding exercise.", "scores_reasons"),
    ("Sadly you failed the coding test.", "scores_reasons"),
    ("The panel did not feel you were a culture fit.", "scores_reasons"),
    ("You are overqualified for this position.", "scores_reasons"),
    ("There were some red flags in your references.", "scores_reasons"),
    ("Your salary expectations were too high for our budget.", "scores_reasons"),
    ("The gap in your CV worried the panel.", "scores_reasons"),
    ("The main reason was your answer on caching.", "scores_reasons"),
    ("We will keep your CV on file.", "promises"),
    ("We will definitely hire you next time.", "promises"),
    ("We'll be in touch about future roles.", "promises"),
    ("You'll be first in line for the next opening.", "promises"),
    ("With two young children, the travel might be hard for you.", "sex_family"),
    ("Are you planning to start a family soon?", "sex_family"),
    ("Your husband's job may move you away from Berlin.", "sex_family"),
    ("Since you are pregnant, the timing is not right.", "pregnancy"),
    ("We need someone who will not go on maternity leave this year.", "pregnancy"),
    ("Clients may struggle with your accent.", "race_origin"),
    ("We need a native English speaker for this team.", "race_origin"),
    ("Where are you originally from? Several of us wondered.", "race_origin"),
    ("We felt there may be a language barrier.", "race_origin"),
    ("The team noticed you would need breaks for prayer.", "religion"),
    ("Your headscarf would not suit client meetings.", "religion"),
    ("We could not give you Fridays off during Ramadan.", "religion"),
    ("Given your health condition, the on-call rota would be too much.", "disability_health"),
    ("We can't offer the role to someone in a wheelchair.", "disability_health"),
    ("Your anxiety showed during the interview.", "disability_health"),
    ("We noticed your stutter in the presentation.", "disability_health"),
    ("We don't think your lifestyle suits our clients.", "sexual_orientation"),
    ("Our clients may not be comfortable with a transgender consultant.", "sexual_orientation"),
    ("You mentioned your family history of heart disease.", "genetic"),
    ("The genetic test results you shared worried us.", "genetic"),
    ("We felt you would be a better fit for a younger team.", "age"),
    ("You seemed a little old-fashioned in your approach.", "age"),
    ("We decided to go with a candidate who interviewed better.", "comparison"),
    ("The role is better suited to someone without kids.", "sex_family"),
    ("We decided the role needs a man's perspective.", "sex_family"),
    ("You would need to take parental leave soon after starting.", "sex_family"),
    ("Someone like you might not mesh with the team culture.", "scores_reasons"),
    ("Your Spanish accent made the call hard to follow.", "race_origin"),
    ("Your CV will be kept on file.", "promises"),
    ("We'll keep your details in our talent pool.", "promises"),
    ("Sorry, but your CV was a mess.", "tone"),
]

SAFE = [
    "Thank you for your time and for the care you put into your application.",
    "After careful consideration, we have decided not to move forward with your application.",
    "Best of luck in your search.",
    "The role needs production experience with PostgreSQL.",
    "We were looking for more experience leading teams.",
    "The position requires fluency in German.",
    "The team enjoyed meeting you.",
    "This is a senior position with on-call duties.",
    "You were a strong candidate, and the decision was not easy.",
    "The role asks for five years of experience with Kubernetes.",
    "We have decided to move forward with other candidates for this opening.",
    "We would welcome an application from you for future openings.",
    "We'd love to stay in touch.",
    "Please feel free to apply again for roles that match your experience.",
    "The race condition you spotted in the take-home was a sharp catch.",
    "Our team works on genetic algorithms for route planning.",
    "The service is cloud-agnostic and runs on Kubernetes.",
    "We build our compilers in Lisp and Clojure.",
    "Hi Christian, thank you for interviewing with us.",
    "We appreciated your clear explanation of the caching design.",
    "We enjoyed hearing about your work with foreign keys and indexing.",
    "You showed a lot of promise in the system design discussion.",
    "We cannot guarantee that a similar role will open soon.",
    "The position is based in our Berlin office three days a week.",
    "We work from the office 3 out of 5 days.",
    "The decision was a difficult one, and we are grateful for the time you gave us.",
    "Your BI dashboards were impressive.",
    "Thank you for the thoughtful questions you asked the panel.",
    "We hope our paths cross again.",
    "Unfortunately, we will not be moving forward at this time.",
    "We received over 40 applications for this role.",
    "Your grasp of the child process model in Node was solid.",
    "We liked your treatment of edge cases and your lazy loading approach.",
    "The role involves machine learning problems in logistics.",
    "The team is on call 24/7 in rotation.",
    "We know this is disappointing news, and we are sorry to share it.",
    "We chose a candidate whose experience more closely matches the role.",
    "We enjoyed your enthusiasm for the product.",
    "With your consent, we'd like to keep your details in our talent pool.",
    "Our benefits include parental leave and maternity leave.",
    "This is a twelve-month maternity cover contract.",
    "I know this is disappointing, and I am sorry.",
    "Our accent colours are teal and sand.",
    "If you would like feedback, you can request it with the link below.",
    "We filled the role with a candidate who had deeper experience in mobile payments.",
    "We received more applications than you might expect for a role like this.",
    "Whatever you decide, please do not close the door on us.",
    "Your good old-fashioned thank-you note was appreciated.",
]


@pytest.mark.parametrize(("note", "category"), RISKY)
def test_risky_note_is_flagged(note, category):
    assert category in {finding.category for finding in check_note(note)}


@pytest.mark.parametrize("note", SAFE)
def test_safe_note_is_clean(note):
    assert check_note(note) == []


@pytest.mark.parametrize("rule", load_rules(), ids=lambda rule: rule.example)
def test_every_rule_flags_its_own_example(rule):
    assert rule.category in {finding.category for finding in check_note(rule.example)}


def test_rules_cover_every_category():
    assert {rule.category for rule in load_rules()} == set(CATEGORIES)
    assert 80 <= len(load_rules()) <= 150


@pytest.mark.parametrize(("note", "_category"), RISKY)
def test_offsets_point_at_the_phrase_and_never_overlap(note, _category):
    findings = check_note(note)
    for finding in findings:
        assert note[finding.start : finding.end] == finding.phrase
    for before, after in zip(findings, findings[1:], strict=False):
        assert before.end <= after.start


def test_offsets_on_a_multi_line_note_keep_the_original_case():
    note = "Dear Sam,\n\nThank you.  FRANKLY we\nfound a   Stronger Candidate."
    findings = check_note(note)
    assert [(f.phrase, f.category) for f in findings] == [
        ("FRANKLY", "tone"),
        ("a   Stronger Candidate", "comparison"),
    ]
    assert findings[0].start == note.index("FRANKLY")


def test_spaces_may_span_lines_and_apostrophes_may_be_curly():
    note = "We’ll be\nin touch about future roles."
    (finding,) = check_note(note)
    assert finding.category == "promises"
    assert finding.phrase == "We’ll be\nin touch about future roles"


def test_overlapping_matches_keep_only_the_longest():
    (finding,) = check_note("We will keep your CV on file.")
    assert finding.phrase == "We will keep your CV on file"


def test_longer_match_swallows_a_shorter_one_of_another_category():
    (finding,) = check_note("Sadly you were not experienced enough.")
    assert finding.phrase == "you were not experienced enough"
    assert finding.category == "tone"


def test_separate_phrases_are_all_reported_in_order():
    note = "Frankly you scored 4/10, and at your age that is disappointing."
    assert [f.category for f in check_note(note)] == ["tone", "scores_reasons", "age", "tone"]


def test_only_tone_is_not_blocking():
    legal = {key for key, (_label, is_legal) in CATEGORIES.items() if is_legal}
    assert legal == set(CATEGORIES) - {"tone"}
    findings = check_note("Frankly, you are too old.")
    assert [f.blocking for f in findings] == [False, True]
    assert [f.category for f in blocking(findings)] == ["age"]


def test_finding_to_dict_and_label():
    finding = check_note("You are overqualified.")[0]
    assert finding.to_dict() == {
        "phrase": "overqualified",
        "start": 8,
        "end": 21,
        "category": "scores_reasons",
        "why": finding.why,
        "suggestion": finding.suggestion,
    }
    assert finding.label == CATEGORIES["scores_reasons"][0]
    assert isinstance(finding, Finding)


def test_summary():
    assert summary([]) == "No risky wording found."
    findings = check_note("Frankly, you are too old.")
    assert summary(findings) == "2 phrases flagged: 1 to fix, 1 to confirm."


def test_every_rule_explains_itself():
    for rule in load_rules():
        assert rule.why.endswith(".") and len(rule.why) > 20
        assert rule.suggestion


def test_command_passes_a_clean_note_from_stdin():
    result = CliRunner().invoke(check_note_command, ["-"], input=SAFE[0])
    assert result.exit_code == 0
    assert "No risky wording found." in result.output


def test_command_flags_a_risky_file(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Dear Sam,\nThank you.\nYou are too old for this team.\n", encoding="utf-8")
    result = CliRunner().invoke(check_note_command, [str(path)])
    assert result.exit_code == 1
    assert '3:9  age  "too old" — ' in result.output
    assert "Try: " in result.output


def test_command_json_output():
    note = "We will keep your CV on file. Frankly, you failed the coding test."
    result = CliRunner().invoke(check_note_command, ["--json", "-"], input=note)
    assert result.exit_code == 1
    items = json.loads(result.output)
    assert [item["category"] for item in items] == ["promises", "tone", "scores_reasons"]
    for item in items:
        assert set(item) == {"phrase", "start", "end", "category", "why", "suggestion"}
        assert note[item["start"] : item["end"]] == item["phrase"]


def test_command_json_output_when_clean():
    result = CliRunner().invoke(check_note_command, ["--json", "-"], input="Thank you.")
    assert result.exit_code == 0
    assert json.loads(result.output) == []
