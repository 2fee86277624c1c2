"""The Flink side of the differential suite: every input set of the corpus through PyFlink 1.19,
in one JVM. Per input set, one Kafka source table named `src` in the seed's JSON options
(common/kafka_sources.py: fail-on-missing-field false, ignore-parse-errors true), bounded at the
end offsets seen at start, and one Flink job: a StatementSet with one INSERT per query into an
Iceberg table of a Hadoop catalog on a local warehouse (the seed's Iceberg connector, its format
options). Run in the virtualenv scripts/flink/setup.sh makes.

A query Flink refuses while planning is reported as refused and left out of the job, so one bad
query never hides the others. If the batched job fails at run time (Flink fails a job where the
runtime makes a dead letter, e.g. a CAST of unparsable text), each query runs again as its own job
so that only the failing ones are reported as failed.

Input (a JSON file named by the only argument):
  {"bootstrap": ..., "warehouse": ..., "jars": ..., "sets": [{"name", "topic", "time_zone", "columns": [{name,
   type}], "queries": [{"id", "table", "sql", "sink": [{name, type}]}]}]}
Prints one JSON line: {"<query id>": {"status": "ok" | "refused" | "failed", "message": ...}}.
"""

import glob
import json
import os
import sys


def ddl_columns(columns):
    return ",\n".join(f"  `{c['name']}` {c['type']}" for c in columns)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        args = json.load(f)

    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = env.get_config()
    jars = sorted(glob.glob(os.path.join(os.path.abspath(args["jars"]), "*.jar")))
    if not jars:
        raise SystemExit(f"no jars in {args['jars']}: run scripts/flink/setup.sh")
    conf.set("pipeline.jars", ";".join("file://" + j for j in jars))
    conf.set("parallelism.default", "1")
    conf.set("table.exec.resource.default-parallelism", "1")
    # The Iceberg sink commits on checkpoints; the last one is taken when the bounded source ends.
    conf.set("execution.checkpointing.interval", "2s")
    conf.set("execution.checkpointing.mode", "EXACTLY_ONCE")
    # With checkpointing on, Flink restarts a failed job without end; a job that fails on a record
    # would fail again on every restart, so it fails for good at once.
    conf.set("restart-strategy.type", "none")

    env.execute_sql(
        f"""
        CREATE CATALOG diff WITH (
            'type' = 'iceberg',
            'catalog-type' = 'hadoop',
            'warehouse' = 'file://{os.path.abspath(args["warehouse"])}',
            'property-version' = '1'
        )
        """
    )
    env.execute_sql("CREATE DATABASE IF NOT EXISTS diff.flink")
    results = {}

    for s in args["sets"]:
        # The session zone is read when a statement is planned, so it can change between sets.
        conf.set("table.local-time-zone", s["time_zone"])
        env.execute_sql("DROP TABLE IF EXISTS default_catalog.default_database.src")
        try:
            create_source(env, args, s)
        except Exception as e:  # noqa: BLE001 - a source type Flink cannot parse refuses the whole set
            for q in s["queries"]:
                results[q["id"]] = {"status": "refused", "message": "source table: " + first_line(e)}
            continue
        env.use_catalog("default_catalog")
        env.use_database("default_database")
        planned = []
        for q in s["queries"]:
            insert = f"INSERT INTO diff.flink.`{q['table']}` {q['sql']}"
            try:
                create_sink(env, q)
                env.explain_sql(insert)
                planned.append((q, insert))
            except Exception as e:  # noqa: BLE001 - Flink's planner raises Py4J errors of many kinds
                results[q["id"]] = {"status": "refused", "message": first_line(e)}
        alone = [(q, insert) for q, insert in planned if q.get("own_job")]
        batched = [(q, insert) for q, insert in planned if not q.get("own_job")]
        if batched:
            try:
                run(env, [insert for _, insert in batched])
                for q, _ in batched:
                    results[q["id"]] = {"status": "ok"}
            except Exception:  # noqa: BLE001
                # One query's run-time failure failed the whole job: isolate it.
                alone += batched
        if alone:
            # Checkpoints taken before a failure may have committed rows, so each table starts
            # again empty.
            for q, insert in alone:
                try:
                    env.execute_sql(f"DROP TABLE IF EXISTS diff.flink.`{q['table']}`")
                    create_sink(env, q)
                    run(env, [insert])
                    results[q["id"]] = {"status": "ok"}
                except Exception as e:  # noqa: BLE001
                    results[q["id"]] = {"status": "failed", "message": root_cause(e)}

    print(json.dumps(results), flush=True)


def create_source(env, args, s) -> None:
    """The input set's Kafka table, in the seed's JSON options (common/kafka_sources.py)."""
    env.execute_sql(
        f"""
        CREATE TABLE default_catalog.default_database.src (
        {ddl_columns(s['columns'])}
        ) WITH (
            'connector' = 'kafka',
            'topic' = '{s['topic']}',
            'properties.bootstrap.servers' = '{args['bootstrap']}',
            'properties.group.id' = 'flink-{s['topic']}',
            'scan.startup.mode' = 'earliest-offset',
            'scan.bounded.mode' = 'latest-offset',
            'format' = 'json',
            'json.fail-on-missing-field' = 'false',
            'json.ignore-parse-errors' = 'true'
        )
        """
    )


def create_sink(env, q) -> None:
    env.execute_sql(
        f"""
        CREATE TABLE IF NOT EXISTS diff.flink.`{q['table']}` (
        {ddl_columns(q['sink'])}
        ) WITH (
            'format-version' = '2',
            'write.format.default' = 'parquet',
            'write.parquet.compression-codec' = 'snappy'
        )
        """
    )


def run(env, inserts) -> None:
    stmts = env.create_statement_set()
    for insert in inserts:
        stmts.add_insert_sql(insert)
    stmts.execute().wait()


def first_line(e: Exception) -> str:
    text = str(e).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("An error occurred while calling"):
            return line[:400]
    return text[:400]


def root_cause(e: Exception) -> str:
    """The innermost 'Caused by:' of a Java stack trace: the reason, not the job machinery."""
    text = str(e)
    causes = [line.strip() for line in text.splitlines() if line.strip().startswith("Caused by:")]
    return (causes[-1] if causes else first_line(e))[:400]


if __name__ == "__main__":
    main()
