"""How long a report waits while the whole indicator state is rebuilt (issue 17 §1, §2): a second connection asks
one city's totals for one slot every 100 ms while ``rebuild()`` runs on two connections; the longest answer is
how long the rebuild kept readers out.

Dataset: any database with a registry, e.g. those of ``scale_bench.py`` (``jf_bench_100k``, ``jf_bench_500k``).

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/jf_bench_500k ../.venv/bin/python rebuild_wait_bench.py
"""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jf_bench_100k")  # before _django

from _django import commit, setup

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
PAUSE = 0.1  # seconds between the reader's questions


def reader(stop: threading.Event, answers: list[float]) -> None:
    """One city's totals for one slot of the latest year, as a report reads them, until *stop*: on this thread's
    own connection (autocommit, as a request's)."""
    from django.db import connection

    from metrics.models import AreaSlotState

    table = connection.ops.quote_name(AreaSlotState._meta.db_table)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT max(year), min(township) FROM {table}")  # noqa: S608
            year, township = cursor.fetchone()
            city = township // 100_000 * 100_000
            while not stop.is_set():
                started = time.monotonic()
                cursor.execute(
                    f"SELECT sum(registered_i) FROM {table} WHERE year = %s AND slot = 0"  # noqa: S608
                    " AND township BETWEEN %s AND %s",
                    [year, city, city + 99_999],
                )
                cursor.fetchone()
                answers.append(time.monotonic() - started)
                time.sleep(PAUSE)
    finally:
        connection.close()


def main() -> None:
    setup()
    from django.db import connection

    from metrics.state.rebuild import rebuild

    database = connection.settings_dict["NAME"]
    rebuild()  # a state to read, and the database warm
    print(f"rebuild wait bench, commit {commit()}, database {database}, load average {os.getloadavg()[0]:.1f}")
    for _ in range(ROUNDS):
        stop, answers = threading.Event(), list[float]()
        thread = threading.Thread(target=reader, args=(stop, answers))
        thread.start()
        time.sleep(1)  # the reader has its first answers before the rebuild starts
        stats = rebuild()
        stop.set()
        thread.join()
        phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stats.phases.items())
        print(
            f"rebuild: {stats.patients} patients in {stats.seconds:.2f} s = {stats.patients_per_second:.0f}/s"
            f" ({phases}); reader: {len(answers)} answers, longest {max(answers):.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
