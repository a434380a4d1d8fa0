"""Sign-in, sign-out, the next redirect, password hashing and the users command."""

import pytest
from factories import PASSWORD, USERS
from sqlalchemy import select

from recruiter import create_app
from recruiter.extensions import db
from recruiter.models import Role, User


def test_login_page_has_labelled_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label class="form-label" for="email">Email</label>' in page
    assert 'for="password"' in page


def test_sign_in_lands_on_the_desk(client, auth):
    response = auth.login()
    assert response.status_code == 302
    assert response.location == "/desk"
    assert "My desk" in client.get("/desk").get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password"),
    [(USERS["manager"][0], "wrong password here"), ("nobody@acme.example", PASSWORD)],
)
def test_wrong_credentials_get_the_same_answer(client, email, password):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/desk").status_code == 302


def test_inactive_user_cannot_sign_in(app, client, auth):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == USERS["manager"][0]))
        user.active = False
        db.session.commit()
    auth.login()
    assert client.get("/desk").status_code == 302


def test_pages_need_sign_in(client):
    response = client.get("/openings/")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\r\nSet-Cookie:x",
        "\t//evil.example",
    ],
)
def test_next_never_leaves_the_site(client, target):
    response = client.post(
        "/login", data={"email": USERS["manager"][0], "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.location == "/desk"


def test_next_inside_the_app_is_followed(client):
    response = client.post(
        "/login", data={"email": USERS["manager"][0], "password": PASSWORD, "next": "/openings/"}
    )
    assert response.location == "/openings/"


def test_sign_out_ends_copied_sessions(app, client, auth):
    auth.login()
    stolen = client.get_cookie("session").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/desk").status_code == 302


def test_sign_out_is_post_only(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.get("/desk").status_code == 200


def test_passwords_are_hashed_with_pbkdf2_600000(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "TESTING": True})
    with app.app_context():
        user = User(email="x@acme.example", name="X", role=Role.MANAGER)
        user.set_password("a long enough password")
        assert user.password_hash.startswith("pbkdf2:sha256:600000$")
        assert user.check_password("a long enough password")
        assert not user.check_password("a long enough passwore")
        db.engine.dispose()


def test_users_create_reads_password_from_stdin(app, runner, client):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Nia@Acme.example",
            "--name",
            "Nia Nowak",
            "--role",
            "manager",
            "--password-stdin",
        ],
        input="a very long pass phrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created manager Nia Nowak <nia@acme.example>" in result.output
    response = client.post(
        "/login", data={"email": "nia@acme.example", "password": "a very long pass phrase"}
    )
    assert response.location == "/desk"


def test_users_create_asks_twice(runner):
    result = runner.invoke(
        args=["users", "create", "kim@acme.example", "--name", "Kim", "--role", "recruiter"],
        input="a very long pass phrase\na very long pass phrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation" in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["kim@acme.example", "--name", "Kim"], "short\n", "at least 12 characters"),
        ([USERS["manager"][0], "--name", "Dup"], "a very long pass phrase\n", "already exists"),
        (["kim@acme.example", "--name", "Kim", "--role", "boss"], "x\n", "Invalid value"),
    ],
)
def test_users_create_refuses_bad_input(runner, args, stdin, message):
    result = runner.invoke(args=["users", "create", *args, "--password-stdin"], input=stdin)
    assert result.exit_code != 0
    assert message in result.output


def test_users_list_shows_everyone(runner):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    for email, _name, role in USERS.values():
        assert email in result.output
        assert role.value in result.output
