// emmett.mjs: the peers workload (bench/README.md, "Peers") through Emmett's SQLite
// event store (@event-driven-io/emmett-sqlite), on Node. Prints one JSON object per
// figure on standard output: {"name": ..., "value": ..., "unit": ...}.
//
//   node bench/peers/emmett.mjs DBFILE EVENTS STREAMS SINGLES
//
// The same work as bench_peers.c does through Strata's store:
//   append_batch   EVENTS events in 100-event appends, streams in turn (each append
//                  is one transaction)
//   append_single  SINGLES appends of one event each (one transaction each)
//   catchup_read   every event read back in global order, 1,000 at a time
//   state_p50      one 100-event stream folded into its state (median of 200 reads)
import { getSQLiteEventStore, sqliteConnection, readMessagesBatch } from '@event-driven-io/emmett-sqlite';

const [file, nEvents, nStreams, nSingles] = [
    process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const BATCH = 100;
const store = getSQLiteEventStore({ fileName: file, schema: { autoMigration: 'CreateOrUpdate' } });
const out = (name, value, unit) => console.log(JSON.stringify({ name, value, unit }));
const now = () => Number(process.hrtime.bigint()) / 1e9;
const event = (i) => ({ type: 'Added', data: { amount: 1 + (i % 9) } });
// Emmett's connection now and then fails a commit with SQLITE_BUSY ("SQL statements
// in progress") in a single process; such an append is tried again (counted).
let retries = 0;
const append = async (stream, evs) => {
    for (let attempt = 0; ; attempt++) {
        try {
            return await store.appendToStream(stream, evs);
        } catch (err) {
            if (err.code !== 'SQLITE_BUSY' || attempt >= 5) throw err;
            retries++;
        }
    }
};

// append_batch: streams in turn, 100 events an append
let t0 = now();
let written = 0;
for (let round = 0; written < nEvents; round++) {
    for (let s = 0; s < nStreams && written < nEvents; s++) {
        const n = Math.min(BATCH, nEvents - written);
        const evs = [];
        for (let k = 0; k < n; k++) evs.push(event(written + k));
        await append(`Counter-${s}`, evs);
        written += n;
    }
}
out('append_batch', written / (now() - t0), 'events/s');

// append_single: one event an append, one transaction each
t0 = now();
for (let i = 0; i < nSingles; i++)
    await append(`Single-${i % 100}`, [event(i)]);
out('append_single', nSingles / (now() - t0), 'events/s');

// catchup_read: everything in global order, 1,000 at a time
const conn = sqliteConnection({ fileName: file });
t0 = now();
let after = 0n, read = 0;
for (;;) {
    const r = await readMessagesBatch(conn, { after, batchSize: 1000 });
    read += r.messages.length;
    if (r.messages.length === 0 || !r.areEventsLeft) break;
    after = r.currentGlobalPosition;
}
out('catchup_read', read / (now() - t0), 'events/s');
conn.close();

// state_p50: a 100-event stream folded (Counter-0 holds the first 100)
const evolve = (st, e) => ({ count: st.count + 1, total: st.total + e.data.amount });
const samples = [];
for (let i = 0; i < 200; i++) {
    const t = now();
    const r = await store.aggregateStream(`Counter-${i % Math.min(nStreams, 50)}`,
        { evolve, initialState: () => ({ count: 0, total: 0 }) });
    samples.push((now() - t) * 1000);
    if (!r.state || r.state.count < 1) throw new Error('empty stream');
}
samples.sort((a, b) => a - b);
out('state_p50', samples[samples.length >> 1], 'ms');
if (retries) console.error(`emmett: ${retries} append(s) retried after SQLITE_BUSY`);
await store.close?.();
process.exit(0);
