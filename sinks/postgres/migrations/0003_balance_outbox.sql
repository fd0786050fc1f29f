-- Accounts whose committed balance has not yet been published to `account-balances`.
-- Filled in the transaction that moves the balance, emptied once the balance is on Kafka, and
-- drained when the sink starts: a crash between commit and publish loses no balance update.

CREATE TABLE balance_outbox (
    account_id text PRIMARY KEY,
    queued_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE balance_outbox IS 'Transactional outbox: accounts whose new balance still has to be published to the account-balances topic.';
COMMENT ON COLUMN balance_outbox.account_id IS 'Patient account whose balance changed.';
COMMENT ON COLUMN balance_outbox.queued_at IS 'When the change was committed.';
