-- Provider events age out (PartitionMaintenance, GATEWAY_PROVIDER_EVENT_RETENTION): the batches that
-- delete them find the old ones by this index instead of reading the table.
CREATE INDEX provider_events_received_idx ON provider_events (received_at);
