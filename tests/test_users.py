"""People's spaces: passphrases stored as scrypt hashes, lockouts, and projects no other space can reach."""

import sqlite3

import pytest

from workspace import users
from workspace.projects import ProjectNotFound
from workspace.users import LOCAL, SignInError, Users, space_workspace


class Clock:
    """A clock a test moves by hand, so a lockout can be waited out without waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def people(tmp_path):
    return Users(tmp_path, clock=Clock())


def test_stored_passphrase_is_a_salted_hash_that_verifies(people, tmp_path):
    people.create("Ada", "correct horse battery")
    people.create("Bob", "correct horse battery")
    with sqlite3.connect(tmp_path / "users.sqlite3") as db:
        secrets = [row[0] for row in db.execute("SELECT secret FROM users")]
    assert all("correct horse" not in s and s.startswith("scrypt$") for s in secrets)
    assert secrets[0] != secrets[1]  # a random salt per user: the same passphrase hashes differently
    assert all(users.verify_passphrase("correct horse battery", s) for s in secrets)
    assert not users.verify_passphrase("correct horse batterY", secrets[0])
    assert not users.verify_passphrase("anything", "not a stored hash")


def test_names_are_trimmed_and_case_insensitive(people):
    made = people.create("  Ada   Lovelace ", "analytical engine")
    assert made.name == "Ada Lovelace"
    assert people.sign_in("ada lovelace", "analytical engine") == made
    with pytest.raises(SignInError, match="already a space called ADA LOVELACE"):
        people.create("ADA  LOVELACE", "another passphrase")


@pytest.mark.parametrize("name, passphrase, message", [
    ("Ada", "short", "at least 8 characters"),
    ("   ", "long enough passphrase", "Type a name"),
    ("x" * 61, "long enough passphrase", "at most 60 characters"),
])
def test_unusable_names_and_passphrases_are_refused_in_plain_words(people, name, passphrase, message):
    with pytest.raises(SignInError, match=message):
        people.create(name, passphrase)


def test_wrong_passphrase_and_unknown_name_get_the_same_answer(people):
    people.create("Ada", "analytical engine")
    with pytest.raises(SignInError, match="do not match") as wrong:
        people.sign_in("Ada", "difference engine")
    with pytest.raises(SignInError, match="do not match") as unknown:
        people.sign_in("Charles", "difference engine")
    assert str(wrong.value) == str(unknown.value)  # nothing tells which names exist


def test_repeated_wrong_passphrases_lock_the_name_for_a_while(people):
    made = people.create("Ada", "analytical engine")
    for _ in range(users.MAX_FAILURES - 1):
        with pytest.raises(SignInError, match="more tr"):
            people.sign_in("Ada", "guess guess")
    with pytest.raises(SignInError, match="locked for 5 more minutes"):
        people.sign_in("Ada", "guess guess")
    with pytest.raises(SignInError, match="locked"):
        people.sign_in("ada", "analytical engine")  # even the right passphrase waits
    people.clock.now += users.LOCK_SECONDS - 90
    with pytest.raises(SignInError, match="locked for 2 more minutes"):
        people.sign_in("Ada", "analytical engine")
    people.clock.now += 91
    assert people.sign_in("Ada", "analytical engine") == made
    with pytest.raises(SignInError, match=f"{users.MAX_FAILURES - 1} more tries"):  # the count starts afresh
        people.sign_in("Ada", "guess guess")


def test_spaces_cannot_see_each_others_projects(people, tmp_path, mixed):
    ada, bob = people.create("Ada", "analytical engine"), people.create("Bob", "bobs passphrase")
    adas, bobs = space_workspace(ada, tmp_path), space_workspace(bob, tmp_path)
    project = adas.create_project(mixed, keep_data=True)
    assert [p.id for p in adas.recent()] == [project]
    assert bobs.recent() == [] and bobs.recent(1, project) == []
    assert space_workspace(LOCAL, tmp_path).recent() == []  # the single-user space is a space of its own
    with pytest.raises(ProjectNotFound, match="does not exist or belongs to someone else"):
        bobs.open_project(project)
    assert bobs.delete_project(project) is False
    assert adas.open_project(project).dataset is not None  # Bob's attempts left it whole


@pytest.mark.parametrize("project_id", ["../users", "..", "users", "/etc", "abc", "0123456789ab/../x", ""])
def test_ids_that_are_not_project_ids_name_nothing(tmp_path, mixed, project_id):
    local = space_workspace(LOCAL, tmp_path)
    local.create_project(mixed)
    with pytest.raises(ProjectNotFound):
        local.open_project(project_id)
    with pytest.raises(ProjectNotFound):
        local.delete_project(project_id)
    assert (tmp_path / "catalogue.sqlite3").exists() and len(local.recent()) == 1


def test_a_made_up_space_has_no_folder(tmp_path):
    with pytest.raises(SignInError):
        space_workspace(users.Space("../..", "Mallory"), tmp_path)


def test_a_running_training_is_found_again_only_from_its_own_space(mixed):
    from models import jobs

    queue = jobs.TrainingQueue(limit=1)
    queue._slots.acquire()  # every slot taken: the job waits in the queue, so nothing trains here
    job = jobs.TrainingJob(jobs.TrainingRequest("copula"), jobs.split_rows(mixed), mixed.schema,
                           project="0123456789ab", space="ada")
    queue.submit(job)
    try:
        assert queue.find("0123456789ab", "ada") is job
        assert queue.find("0123456789ab", "bob") is None and queue.find("0123456789ab") is None
    finally:
        job.cancel()
        assert job.finished.wait(10)


def test_interrupted_trainings_are_listed_only_in_their_own_space(people, tmp_path, mixed):
    from models.jobs import TrainingJob, TrainingRequest, split_rows
    from workspace import trainings

    ada, bob = people.create("Ada", "analytical engine"), people.create("Bob", "bobs passphrase")
    adas = space_workspace(ada, tmp_path)
    project = adas.create_project(mixed)
    job = TrainingJob(TrainingRequest("vae", "fast"), split_rows(mixed), mixed.schema, project=project, space=ada.id)
    trainings.ProjectTrainings(adas, project).started(job)  # ... and then the server stopped
    assert [r.id for r in trainings.unfinished(adas, project)] == [job.job_id]
    assert trainings.unfinished(space_workspace(bob, tmp_path), project) == []
