-- The QGX business database as the Raw Message Status dashboard reads it (MariaDB / MySQL 8 syntax).
-- Grafana's MySQL datasource (datasources/mysql.py) connects as a read-only user with time zone UTC: every
-- DATETIME below is UTC. The indexes are the ones the dashboard's queries filter and sort on.

CREATE TABLE raw_message (
    id            BIGINT UNSIGNED   NOT NULL AUTO_INCREMENT,
    message_type  VARCHAR(64)       NOT NULL,                 -- e.g. ORDER_CREATED, PAYMENT_SETTLED
    source        VARCHAR(64)       NOT NULL,                 -- the upstream system that sent it
    status        ENUM('RECEIVED', 'PROCESSING', 'PROCESSED', 'FAILED') NOT NULL DEFAULT 'RECEIVED',
    trace_id      CHAR(32)          NULL,                     -- W3C trace id (32 hex), the same as the logs' traceId
    payload_bytes INT UNSIGNED      NOT NULL DEFAULT 0,
    retries       SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    last_error    VARCHAR(1024)     NULL,                     -- why the last attempt failed
    created_at    DATETIME(3)       NOT NULL DEFAULT CURRENT_TIMESTAMP(3),   -- received
    updated_at    DATETIME(3)       NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    processed_at  DATETIME(3)       NULL,                     -- set when status becomes PROCESSED
    PRIMARY KEY (id),
    KEY idx_raw_message_created_at (created_at),
    KEY idx_raw_message_status_updated_at (status, updated_at),
    KEY idx_raw_message_processed_at (processed_at),
    KEY idx_raw_message_type_created_at (message_type, created_at),
    KEY idx_raw_message_trace_id (trace_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
