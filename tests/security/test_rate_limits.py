"""Rate limits (issue 15, item 6): Spark AI's Try again counts like asking, and the limits
(questions, invitation guesses) are shared by every worker through Redis when REDIS_URL is set.

The Redis tests use the real Redis at 127.0.0.1:6379, in a database claimed for this run and
flushed afterwards (`scaleout.private_redis_database`); a second worker is a separate Python
process counting in the same Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from opkalla_portal.services import invitations, rate_limit, support
from opkalla_portal.state.support import SupportState
from tests.support.test_handlers import DANA, call, make_state

PROJECT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("OPKALLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def shared_redis(monkeypatch):
    """REDIS_URL pointing at a Redis database of this test alone."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error.__class__.__name__}")
    from tests.scaleout.harness import private_redis_database

    with private_redis_database(REDIS_URL) as url:
        monkeypatch.setenv("REDIS_URL", url)
        rate_limit.reset_local()
        yield url
        rate_limit.reset_local()


def _in_another_worker(code: str, redis_url: str) -> str:
    """Run `code` in a separate Python process (another worker) with the same REDIS_URL."""
    env = {**os.environ, "REDIS_URL": redis_url}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_try_again_counts_against_the_question_limit(seeded, monkeypatch):
    monkeypatch.setattr(support, "rate_limiter", support.RateLimiter(limit=2))
    state = make_state(SupportState, DANA, "/support")
    assert call(state, "submit", {"question": "How do I reset a password?"}) is SupportState.stream_answer
    state.streaming = False
    state.answer_error = "The answer could not be completed. Your question was kept: select Try again."
    assert call(state, "retry") is SupportState.stream_answer  # the second question of the minute
    state.streaming = False
    state.answer_error = "The answer could not be completed. Your question was kept: select Try again."

    assert call(state, "retry") is None  # a third ask within the minute is refused
    assert "You've asked 2 questions in the last minute" in state.answer_error
    assert "Try again" in state.answer_error  # the question is kept for later
    assert state.streaming is False


def test_the_in_process_limit_counts_each_key_in_its_window():
    rate_limit.reset_local()
    assert [rate_limit.hit("test:a", 2, 60) for _ in range(3)] == [True, True, False]
    assert rate_limit.hit("test:b", 2, 60) is True  # another key has its own count
    assert rate_limit.count("test:a") == 3 and 1 <= rate_limit.retry_after("test:a") <= 60
    rate_limit.reset_local()


def test_the_limit_is_shared_across_workers_through_redis(shared_redis):
    import redis

    counted = _in_another_worker(
        "from opkalla_portal.services import rate_limit\n"
        "print([rate_limit.hit('test:shared', 3, 60) for _ in range(3)])",
        shared_redis,
    )
    assert counted == "[True, True, True]"
    assert rate_limit.hit("test:shared", 3, 60) is False  # this worker sees the other's three
    client = redis.Redis.from_url(shared_redis)
    assert int(client.get(rate_limit.KEY_PREFIX + "test:shared")) == 4
    assert 0 < client.ttl(rate_limit.KEY_PREFIX + "test:shared") <= 60  # the window expires in Redis
    assert 1 <= rate_limit.retry_after("test:shared") <= 60


def test_support_questions_are_limited_across_workers(seeded, shared_redis):
    identity = make_state(SupportState, DANA, "/support")._identity()
    user_id = identity.user_id
    _in_another_worker(
        "from opkalla_portal.services import support\n"
        f"[support.rate_limiter.check({user_id}) for _ in range(support.RATE_LIMIT_QUESTIONS)]",
        shared_redis,
    )
    with pytest.raises(support.RateLimited):
        support.check_retry(identity)


def test_invitation_guesses_are_counted_across_workers(shared_redis):
    client = "203.0.113.7"
    assert not invitations.too_many_failed_checks(client)
    _in_another_worker(
        "from opkalla_portal.services import invitations\n"
        f"[invitations.note_failed_check('{client}') for _ in range(invitations.MAX_FAILED_CHECKS)]",
        shared_redis,
    )
    assert invitations.too_many_failed_checks(client)  # this worker sees the other's guesses
    assert not invitations.too_many_failed_checks("203.0.113.8")
