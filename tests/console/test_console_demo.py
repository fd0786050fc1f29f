"""`make demo` ends with the console running and prints its address and a demo login that works."""
from __future__ import annotations

import re
import socket
from dataclasses import replace

import pytest

pytestmark = pytest.mark.integration


def test_the_demo_leaves_the_console_running_with_a_login_that_works(console_settings, tmp_path,
                                                                     capsys):
    import httpx

    from infra.demo import start_console

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    console = start_console(replace(console_settings, home=tmp_path), port)
    try:
        printed = capsys.readouterr().out
        assert f"The console is running at http://127.0.0.1:{port}/" in printed
        password = re.search(r"demo login: user demo, password (\S+)", printed)[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False) as http:
            form = http.get("/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', form.text)[1]
            http.cookies.set("rcm_login_csrf", token)  # httpx keeps Secure cookies off plain http
            wrong = http.post("/login", data={"username": "demo", "password": "guess",
                                              "login_csrf": token})
            right = http.post("/login", data={"username": "demo", "password": password,
                                              "login_csrf": token})
        assert wrong.status_code == 401
        assert right.status_code == 303 and "rcm_session=" in right.headers["set-cookie"]
    finally:
        console.stop()
