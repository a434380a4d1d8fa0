"""Signed links for candidates: genuine, expired, altered, or for another purpose."""

import time

import pytest

from recruiter.candidates.links import LinkExpired, LinkInvalid, make_token, read_token


def test_a_genuine_link_reads_back(app):
    with app.app_context():
        token = make_token("consent", 7, entry=3)
        assert read_token("consent", token) == {"c": 7, "entry": 3}


def test_an_altered_link_is_refused(app):
    with app.app_context():
        token = make_token("consent", 7)
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        with pytest.raises(LinkInvalid):
            read_token("consent", tampered)


def test_a_link_for_another_purpose_is_refused(app):
    with app.app_context(), pytest.raises(LinkInvalid):
        read_token("withdraw", make_token("consent", 7))


def test_an_old_link_has_expired(app):
    with app.app_context():
        token = make_token("consent", 7)
        time.sleep(1.1)
        with pytest.raises(LinkExpired):
            read_token("consent", token, max_age=0)


def test_another_secret_key_does_not_verify(app):
    with app.app_context():
        token = make_token("consent", 7)
        app.config["SECRET_KEY"] = "a different key entirely"
        with pytest.raises(LinkInvalid):
            read_token("consent", token)
