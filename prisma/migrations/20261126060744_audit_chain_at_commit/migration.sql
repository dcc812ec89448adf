-- AlterTable
ALTER TABLE "audit_event" ADD COLUMN     "seq" INTEGER,
ALTER COLUMN "prev_hash" DROP NOT NULL,
ALTER COLUMN "hash" DROP NOT NULL;

-- CreateTable
CREATE TABLE "audit_chain_head" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_event_seq_key" ON "audit_event"("seq");

-- Written by hand: the audit chain is kept by the database as each writing transaction commits.
-- Before this migration each writer took an advisory lock, read the newest hash and inserted over
-- several round trips, all while holding the lock, which capped the bot at ~100-200 audited commands
-- a second. Now a writer only inserts; a deferred trigger links the row at commit, holding the head
-- row's lock for a few statements inside the server.

-- One row, always id 1.
ALTER TABLE "audit_chain_head" ADD CONSTRAINT "audit_chain_head_single_row" CHECK ("id" = 1);

-- The one definition of an event's hash: used when chaining and when verifying.
CREATE FUNCTION audit_event_hash(prev_hash text, at timestamptz, actor text, action text, subject text,
                                 channel text, reason text, details jsonb) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    prev_hash, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    actor, action, subject, channel, reason, details)::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION audit_event_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  head record;
  event record;
  linked text;
BEGIN
  -- FOR UPDATE waits for the previous writer's commit and then reads its head (READ COMMITTED),
  -- so every event links to the one committed just before it, whichever process wrote it.
  SELECT seq, hash INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  SELECT * INTO event FROM audit_event WHERE id = NEW.id;
  linked := audit_event_hash(head.hash, event.at, event.actor, event.action, event.subject,
                             event.channel, event.reason, event.details);
  UPDATE audit_event SET seq = head.seq + 1, prev_hash = head.hash, hash = linked WHERE id = NEW.id;
  UPDATE audit_chain_head SET seq = head.seq + 1, hash = linked WHERE id = 1;
  RETURN NULL;
END
$$;

-- Re-link the events written before this migration in id order (their order then), from the start:
-- the old hashes were computed in the application with another encoding. This vouches for those
-- events as they stand now, so a store with history should pass `dmm audit verify` before upgrading.
INSERT INTO "audit_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64));
DO $$
DECLARE
  event record;
  prev text := repeat('0', 64);
  n integer := 0;
BEGIN
  FOR event IN SELECT * FROM audit_event ORDER BY id LOOP
    n := n + 1;
    UPDATE audit_event
       SET seq = n, prev_hash = prev,
           hash = audit_event_hash(prev, event.at, event.actor, event.action, event.subject,
                                   event.channel, event.reason, event.details)
     WHERE id = event.id
    RETURNING hash INTO prev;
  END LOOP;
  UPDATE audit_chain_head SET seq = n, hash = prev WHERE id = 1;
END
$$;

CREATE CONSTRAINT TRIGGER audit_event_chain AFTER INSERT ON "audit_event"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_event_chain();

