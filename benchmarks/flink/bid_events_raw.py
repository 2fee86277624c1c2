"""The PyFlink job this runtime replaces, as a benchmark reference: the seed's `bid_events_raw`
pipeline (Kafka JSON source -> TO_TIMESTAMP_LTZ / CURRENT_TIMESTAMP -> Iceberg v2 Parquet/Snappy)
in PyFlink 1.19, with the Kafka source bounded at the end offsets seen at start and an Iceberg
sink through a Hadoop catalog on a local warehouse, exactly-once checkpoints.

Run by benchmarks/run.ts in the virtualenv scripts/flink/setup.sh makes, one parallelism per
Python process (a fresh JVM each time). Prints one JSON line of wall-clock marks (epoch ms) on
stdout: `started` (interpreter up), `submitted` (the job graph accepted by the local cluster:
JVM, gateway, catalog and planning done), `finished` (the job ended, its last checkpoint
committed).

    python bid_events_raw.py --bootstrap 127.0.0.1:9092 --topic bench-w1-none \
        --warehouse /tmp/wh --parallelism 2 --jars DIR --checkpoint-interval 10s
"""

import argparse
import glob
import json
import os
import time

STARTED = time.time()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--parallelism", type=int, required=True)
    ap.add_argument("--jars", required=True, help="folder of connector jars for pipeline.jars")
    ap.add_argument("--checkpoint-interval", default="10s")
    ap.add_argument("--group", default="flink-s3tables-json-v1")
    args = ap.parse_args()

    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = env.get_config()
    jars = sorted(glob.glob(os.path.join(os.path.abspath(args.jars), "*.jar")))
    if not jars:
        raise SystemExit(f"no jars in {args.jars}: run scripts/flink/setup.sh")
    conf.set("pipeline.jars", ";".join("file://" + j for j in jars))
    conf.set("parallelism.default", str(args.parallelism))
    conf.set("table.exec.resource.default-parallelism", str(args.parallelism))
    conf.set("execution.checkpointing.interval", args.checkpoint_interval)
    conf.set("execution.checkpointing.mode", "EXACTLY_ONCE")
    # Record timestamps and CURRENT_TIMESTAMP as UTC, as the runtime writes them.
    conf.set("table.local-time-zone", "UTC")

    # The seed's source table (common/kafka_sources.py), bounded at the latest offsets.
    env.execute_sql(
        f"""
        CREATE TABLE kafka_bid_events (
            `event_name` STRING,
            `user_id` BIGINT,
            `city_id` BIGINT,
            `platform` STRING,
            `session_id` STRING,
            `timestamp_ms` BIGINT
        ) WITH (
            'connector' = 'kafka',
            'topic' = '{args.topic}',
            'properties.bootstrap.servers' = '{args.bootstrap}',
            'properties.group.id' = '{args.group}',
            'scan.startup.mode' = 'earliest-offset',
            'scan.bounded.mode' = 'latest-offset',
            'format' = 'json',
            'json.fail-on-missing-field' = 'false',
            'json.ignore-parse-errors' = 'true'
        )
        """
    )
    # The seed's sink (common/iceberg_sinks.py), through a Hadoop catalog instead of S3 Tables.
    env.execute_sql(
        f"""
        CREATE CATALOG bench WITH (
            'type' = 'iceberg',
            'catalog-type' = 'hadoop',
            'warehouse' = 'file://{os.path.abspath(args.warehouse)}',
            'property-version' = '1'
        )
        """
    )
    env.execute_sql("CREATE DATABASE IF NOT EXISTS bench.analytics")
    env.execute_sql(
        """
        CREATE TABLE IF NOT EXISTS bench.analytics.parsed_events (
            `event_name` STRING,
            `user_id` BIGINT,
            `city_id` BIGINT,
            `platform` STRING,
            `session_id` STRING,
            `event_time` TIMESTAMP(3),
            `ingestion_time` TIMESTAMP(3)
        ) WITH (
            'format-version' = '2',
            'write.format.default' = 'parquet',
            'write.parquet.compression-codec' = 'snappy'
        )
        """
    )
    # The seed's transformations/bid_events_raw.py, unchanged.
    result = env.execute_sql(
        """
        INSERT INTO bench.analytics.parsed_events
        SELECT
            event_name,
            user_id,
            city_id,
            platform,
            session_id,
            TO_TIMESTAMP_LTZ(timestamp_ms, 3) AS event_time,
            CURRENT_TIMESTAMP AS ingestion_time
        FROM default_catalog.default_database.kafka_bid_events
        """
    )
    submitted = time.time()
    result.wait()
    finished = time.time()
    print(json.dumps({"started": STARTED * 1000, "submitted": submitted * 1000, "finished": finished * 1000}), flush=True)


if __name__ == "__main__":
    main()
