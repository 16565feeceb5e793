"""The app never imports torch (only the demo worker process does), and the core never imports
the TUI toolkit. Each check runs in a fresh interpreter, where `sys.modules` tells the truth."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(code: str, *modules: str) -> list[str]:
    """Which of `modules` are imported once `code` has run in a new interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import sys
        print(" ".join(m for m in {list(modules)!r} if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_app_layers_and_the_catalogue_import_no_torch() -> None:
    code = """
        import pkgutil, importlib
        import studyapp.cli, studyapp.demo_api, studyapp.scheduling, studyapp.db
        import studyapp.services
        for info in pkgutil.iter_modules(studyapp.services.__path__):
            importlib.import_module(f"studyapp.services.{info.name}")
        from studyapp.demo_api import all_specs
        assert len(all_specs()) > 0  # every demo module imported to read its spec
    """
    assert loaded_after(code, "torch") == []


def test_scheduling_and_db_import_no_textual() -> None:
    assert loaded_after("import studyapp.scheduling, studyapp.db", "textual", "torch") == []


def test_demo_list_imports_no_torch(tmp_path: Path) -> None:
    code = f"""
        import contextlib, io
        from studyapp.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["demo", "list", "--json", "--db", {str(tmp_path / "c.db")!r}]) == 0
        assert "adam_vs_sgd" in out.getvalue()
    """
    assert loaded_after(code, "torch") == []


def test_the_first_screen_is_read_without_loading_sqlalchemy(tmp_path: Path) -> None:
    # What `studyapp review` does before its first paint: open the collection, check it has
    # cards and the deck exists, build the app and read the queue's first card; `studyapp`
    # reads the home screen's counts instead. SQLAlchemy is half of the start-up time; it
    # loads once the first screen is painted.
    db = tmp_path / "c.db"
    prepare = f"""
        from studyapp.cli import main
        from studyapp.db import open_store
        from studyapp.services.library import LibraryService
        LibraryService(open_store({str(db)!r})).load_bundled()
    """
    assert loaded_after(prepare, "sqlalchemy") == ["sqlalchemy"]  # the probe can see it
    code = f"""
        import studyapp.cli
        from studyapp.cli.tui import bring_bundled_deck_up_to_date
        from studyapp.db import open_store
        from studyapp.services.study import StudySession, decks_in_scope
        from studyapp.tui.app import create_app
        store = open_store({str(db)!r})
        bring_bundled_deck_up_to_date(store)
        with store.reading() as rows:
            deck = decks_in_scope(rows, None)[0].name
        app = create_app(store, start="review", deck=deck)
        session = app.services.study(deck)
        assert session.current is not None and session.remaining.new > 0
        counts, today = app.services.overview()  # what the home screen shows
        assert sum(c.new for c in counts) > 0 and today.reviewed == 0
    """
    assert loaded_after(code, "sqlalchemy", "textual") == ["textual"]
    # A rating loads it then, and is stored.
    rated = (
        code
        + """
        session.answer(4)
        with store.reading() as rows:
            assert rows("SELECT count(*) FROM reviews", {}) == [(1,)]
    """
    )
    assert loaded_after(rated, "sqlalchemy") == ["sqlalchemy"]


def test_fitting_and_evaluating_fsrs_leave_torch_to_the_worker(tmp_path: Path) -> None:
    # The optimizer needs torch and pandas; the fit runs in a worker process, so the
    # command's own process (or the TUI's) never loads them, nor the optimizer module.
    code = f"""
        import contextlib, io, json
        from studyapp.cli import main
        from studyapp.services.scheduler import evaluate_history
        from tests.services.learners import simulate

        if __name__ == "__main__":
            evaluation = evaluate_history(simulate(120, 120, seed=3), "simulated")
            assert evaluation.fitted
            db = {str(tmp_path / "c.db")!r}
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["scheduler", "optimize", "--db", db]) == 0
                assert main(["deck", "D", "--scheduler", "fsrs", "--db", db]) == 2
    """
    assert loaded_after(code, "torch", "pandas", "fsrs.optimizer") == []
