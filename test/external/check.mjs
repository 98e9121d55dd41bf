// Reads a sinkrun results directory with two independent Parquet readers and
// checks it against docs/results.md: DuckDB (@duckdb/node-api, Hive
// partitioning) and hyparquet, a pure-JavaScript reader that follows the
// Parquet specification strictly.
//
//   node check.mjs EXPECT.json
//
// EXPECT.json is written by external_test.go: the results directory, the
// rows each file must hold, each run's key values and footer, and the path
// of docs/results.md, whose ```sql blocks are run against the directory.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const expect = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const dir = expect.dir
const glob = table => `${dir}/${table}/*/*.parquet`.replaceAll("'", "''")

// The documented schema (docs/results.md). DuckDB type, Parquet physical
// type, logical type, and whether the column may be NULL.
const SCHEMA = {
  metrics: [
    ['run_id', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['step', 'BIGINT', 'INT64', 'INTEGER', false],
    ['tokens_seen', 'BIGINT', 'INT64', 'INTEGER', false],
    ['metric', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['k', 'INTEGER', 'INT32', 'INTEGER', true],
    ['eps', 'DOUBLE', 'DOUBLE', undefined, true],
    ['layer', 'INTEGER', 'INT32', 'INTEGER', true],
    ['head', 'INTEGER', 'INT32', 'INTEGER', true],
    ['value', 'DOUBLE', 'DOUBLE', undefined, false],
    ['is_proxy', 'BOOLEAN', 'BOOLEAN', undefined, false],
  ],
  heads: [
    ['run_id', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['step', 'BIGINT', 'INT64', 'INTEGER', false],
    ['tokens_seen', 'BIGINT', 'INT64', 'INTEGER', false],
    ['layer', 'INTEGER', 'INT32', 'INTEGER', false],
    ['head', 'INTEGER', 'INT32', 'INTEGER', false],
    ['k', 'INTEGER', 'INT32', 'INTEGER', false],
    ['alpha', 'DOUBLE', 'DOUBLE', undefined, false],
    ['sink_percent', 'DOUBLE', 'DOUBLE', undefined, false],
    ['is_proxy', 'BOOLEAN', 'BOOLEAN', undefined, false],
  ],
  maps: [
    ['run_id', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['step', 'BIGINT', 'INT64', 'INTEGER', false],
    ['layer', 'INTEGER', 'INT32', 'INTEGER', false],
    ['head', 'INTEGER', 'INT32', 'INTEGER', false],
    ['query', 'INTEGER', 'INT32', 'INTEGER', false],
    ['key', 'INTEGER', 'INT32', 'INTEGER', false],
    ['weight', 'DOUBLE', 'DOUBLE', undefined, false],
  ],
  // runs: run_id, then one column per setting, then these.
  runsTail: [
    ['varied', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['grid_index', 'BIGINT', 'INT64', 'INTEGER', true],
    ['status', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['error', 'VARCHAR', 'BYTE_ARRAY', 'STRING', true],
    ['diverged_step', 'BIGINT', 'INT64', 'INTEGER', true],
    ['steps', 'BIGINT', 'INT64', 'INTEGER', false],
    ['tokens_seen', 'BIGINT', 'INT64', 'INTEGER', false],
    ['started_at', 'TIMESTAMP WITH TIME ZONE', 'INT64', 'TIMESTAMP', false],
    ['wall_seconds', 'DOUBLE', 'DOUBLE', undefined, true],
    ['ms_per_step', 'DOUBLE', 'DOUBLE', undefined, true],
    ['params', 'BIGINT', 'INT64', 'INTEGER', false],
    ['backend', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['final_val_loss', 'DOUBLE', 'DOUBLE', undefined, true],
    ['final_train_loss', 'DOUBLE', 'DOUBLE', undefined, true],
    ['final_sink1', 'DOUBLE', 'DOUBLE', undefined, true],
    ['final_sink1_is_proxy', 'BOOLEAN', 'BOOLEAN', undefined, false],
    ['final_sink_slot', 'DOUBLE', 'DOUBLE', undefined, true],
    ['final_mean_alpha1', 'DOUBLE', 'DOUBLE', undefined, true],
    ['final_massive', 'DOUBLE', 'DOUBLE', undefined, true],
    ['config_hash', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['tool_version', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['git_revision', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
  ],
  // A few setting columns and their types.
  settings: [
    ['model_layers', 'BIGINT', 'INT64', 'INTEGER', false],
    ['model_init_std', 'DOUBLE', 'DOUBLE', undefined, false],
    ['model_tied', 'BOOLEAN', 'BOOLEAN', undefined, false],
    ['model_position', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['measure_eps', 'VARCHAR', 'BYTE_ARRAY', 'STRING', false],
    ['seed', 'BIGINT', 'INT64', 'INTEGER', false],
  ],
}
const FOOTER_KEYS = ['sinkrun.config', 'sinkrun.config_hash', 'sinkrun.version', 'sinkrun.git_revision', 'sinkrun.run_id']

const db = await (await DuckDBInstance.create(':memory:')).connect()
async function rows(sql) {
  const reader = await db.runAndReadAll(sql)
  return reader.getRowObjectsJS()
}

test('DuckDB: row counts per table and experiment', async () => {
  for (const table of ['runs', 'metrics', 'heads', 'maps']) {
    const got = await rows(`SELECT experiment, count(*) AS n
      FROM read_parquet('${glob(table)}', hive_partitioning = true) GROUP BY ALL ORDER BY experiment`)
    const want = Object.entries(expect.counts[table]).filter(([, n]) => n > 0)
      .map(([experiment, n]) => ({ experiment, n: BigInt(n) }))
      .sort((a, b) => a.experiment.localeCompare(b.experiment))
    assert.deepEqual(got, want, table)
  }
})

test('DuckDB: column names and types', async () => {
  const describe = async table => (await rows(`DESCRIBE SELECT * FROM read_parquet('${glob(table)}', hive_partitioning = true)`))
    .map(r => [r.column_name, r.column_type])
  for (const table of ['metrics', 'heads', 'maps']) {
    const want = SCHEMA[table].map(([n, t]) => [n, t]).concat([['experiment', 'VARCHAR']])
    assert.deepEqual(await describe(table), want, table)
  }
  const runs = await describe('runs')
  assert.deepEqual(runs[0], ['run_id', 'VARCHAR'])
  const tail = SCHEMA.runsTail.map(([n, t]) => [n, t]).concat([['experiment', 'VARCHAR']])
  assert.deepEqual(runs.slice(-tail.length), tail, 'runs: fixed columns')
  const types = Object.fromEntries(runs)
  for (const [name, type] of SCHEMA.settings) assert.equal(types[name], type, `runs.${name}`)
  assert.equal(runs.length, 1 + expect.settingColumns + SCHEMA.runsTail.length + 1, 'runs: column count')
})

test('DuckDB: the partition key is not inside the files', async () => {
  for (const table of ['runs', 'metrics', 'heads', 'maps']) {
    const got = await rows(`SELECT count(*) AS n FROM parquet_schema('${glob(table)}') WHERE name = 'experiment'`)
    assert.equal(got[0].n, 0n, table)
  }
})

test('DuckDB: footer key/values of every file', async () => {
  const kv = await rows(`SELECT file_name, decode(key) AS key, decode(value) AS value
    FROM parquet_kv_metadata('${dir.replaceAll("'", "''")}/*/*/*.parquet')`)
  const byFile = {}
  for (const { file_name: f, key, value } of kv) (byFile[path.resolve(f)] ??= {})[key] = value
  assert.equal(Object.keys(byFile).length, expect.files.length, 'files with footers')
  for (const f of expect.files) {
    const got = byFile[path.resolve(f.path)]
    assert.ok(got, `no footer for ${f.path}`)
    assert.deepEqual(Object.keys(got).sort(), [...FOOTER_KEYS].sort(), f.path)
    assert.equal(got['sinkrun.run_id'], f.run_id)
    assert.equal(got['sinkrun.config_hash'], f.config_hash)
    assert.equal(got['sinkrun.version'], f.version)
    assert.equal(got['sinkrun.git_revision'], f.git_revision)
    const cfg = JSON.parse(got['sinkrun.config'])
    assert.equal(cfg.experiment, f.experiment)
    assert.equal(cfg.seed, f.seed)
  }
})

test('DuckDB: run values, NULLs and time stamps', async () => {
  const got = await rows(`SELECT run_id, experiment, status, seed, grid_index, diverged_step, final_sink1, final_sink1_is_proxy,
      final_sink_slot, epoch_us(started_at) AS started_us, config_hash
    FROM read_parquet('${glob('runs')}', hive_partitioning = true) ORDER BY started_at`)
  assert.deepEqual(got.map(r => ({ ...r, seed: Number(r.seed), started_us: Number(r.started_us), grid_index: Number(r.grid_index),
    diverged_step: r.diverged_step === null ? null : Number(r.diverged_step) })), expect.runs)
  assert.ok(expect.runs.some(r => r.final_sink_slot !== null), 'some run has a slot score')
  assert.ok(expect.runs.some(r => r.final_sink_slot === null), 'some run has no slot')
  // The slot's scores: metric "sink" and heads rows with k = 0, only in runs with a slot.
  for (const table of ['metrics', 'heads']) {
    const slot = await rows(`SELECT DISTINCT run_id FROM read_parquet('${glob(table)}', hive_partitioning = true)
      WHERE k = 0 ${table === 'metrics' ? "AND metric = 'sink'" : ''} ORDER BY run_id`)
    assert.deepEqual(slot.map(r => r.run_id), [...expect.slotRuns].sort(), `${table}: runs with k = 0 rows`)
  }
  // Maps: the slot column (key -1) only for models with one; every row of weights sums to 1.
  const mapSlot = await rows(`SELECT DISTINCT run_id FROM read_parquet('${glob('maps')}', hive_partitioning = true)
    WHERE key = -1 ORDER BY run_id`)
  assert.ok(expect.mapSlotRuns.length > 0, 'some run with maps has a slot')
  assert.deepEqual(mapSlot.map(r => r.run_id), [...expect.mapSlotRuns].sort(), 'maps: runs with key = -1 rows')
  const sums = await rows(`SELECT count(*) FILTER (WHERE abs(s - 1) > 1e-9) AS bad, count(*) AS n
    FROM (SELECT sum(weight) AS s FROM read_parquet('${glob('maps')}', hive_partitioning = true)
          GROUP BY run_id, layer, head, query)`)
  assert.equal(sums[0].bad, 0n, 'maps: attention rows sum to 1')
  assert.ok(sums[0].n > 0n)
  const nulls = await rows(`SELECT count(*) FILTER (WHERE k IS NOT NULL OR eps IS NOT NULL OR layer IS NOT NULL OR head IS NOT NULL) AS bad,
      count(*) AS n
    FROM read_parquet('${glob('metrics')}', hive_partitioning = true) WHERE metric = 'val_loss'`)
  assert.equal(nulls[0].bad, 0n, 'val_loss rows have NULL k, eps, layer, head')
  assert.ok(nulls[0].n > 0n)
})

test('DuckDB: every query in docs/results.md runs', async () => {
  const md = readFileSync(expect.docs, 'utf8')
  const blocks = [...md.matchAll(/```sql\n([\s\S]*?)```/g)].map(m => m[1])
  assert.ok(blocks.length >= 5, `only ${blocks.length} sql blocks in ${expect.docs}`)
  for (const block of blocks) {
    const sql = block.replaceAll("'sinkrun-results/", `'${dir.replaceAll("'", "''")}/`)
    let got
    try {
      got = await rows(sql)
    } catch (e) {
      assert.fail(`query failed: ${e.message}\n${block}`)
    }
    assert.ok(got.length > 0, `query returned no rows:\n${block}`)
  }
})

test('hyparquet: schema, footer and rows of every file', async () => {
  for (const f of expect.files) {
    const file = await asyncBufferFromFile(f.path)
    const md = await parquetMetadataAsync(file)
    assert.equal(md.schema[0].repetition_type, 'REQUIRED', `${f.path}: schema root`)
    assert.equal(Number(md.num_rows), f.rows, `${f.path}: num_rows`)
    const kv = Object.fromEntries((md.key_value_metadata ?? []).map(({ key, value }) => [key, value]))
    assert.equal(kv['sinkrun.run_id'], f.run_id)
    assert.equal(kv['sinkrun.config_hash'], f.config_hash)
    assert.ok(JSON.parse(kv['sinkrun.config']))
    const cols = Object.fromEntries(md.schema.slice(1).map(s => [s.name, s]))
    assert.ok(!('experiment' in cols), `${f.path}: partition column inside the file`)
    const expected = f.table === 'runs' ? [...SCHEMA.settings, ...SCHEMA.runsTail] : SCHEMA[f.table]
    for (const [name, , physical, logical, nullable] of expected) {
      const c = cols[name]
      assert.ok(c, `${f.path}: no column ${name}`)
      assert.equal(c.type, physical, `${name}: physical type`)
      assert.equal(c.logical_type?.type, logical, `${name}: logical type`)
      assert.equal(c.repetition_type, nullable ? 'OPTIONAL' : 'REQUIRED', `${name}: repetition`)
    }
    if (f.table === 'runs') {
      const ts = cols.started_at.logical_type
      assert.deepEqual([ts.unit, ts.isAdjustedToUTC], ['MICROS', true], 'started_at: UTC microseconds')
    }
    for (const c of md.row_groups.flatMap(g => g.columns)) {
      assert.equal(c.meta_data.codec, 'ZSTD', `${f.path}: codec of ${c.meta_data.path_in_schema}`)
    }
    const data = await parquetReadObjects({ file, compressors })
    assert.equal(data.length, f.rows, `${f.path}: rows read`)
    if (f.table === 'runs') {
      const want = expect.runs.find(r => r.run_id === f.run_id)
      const r = data[0]
      assert.equal(r.run_id, want.run_id)
      assert.equal(r.status, want.status)
      assert.equal(Number(r.seed), want.seed)
      assert.equal(r.diverged_step === null ? null : Number(r.diverged_step), want.diverged_step)
      assert.equal(r.final_sink1, want.final_sink1)
      assert.equal(r.final_sink_slot, want.final_sink_slot)
      assert.equal(Number(r.grid_index), want.grid_index)
      assert.equal(r.started_at.getTime() * 1000, want.started_us)
    }
    if (f.table === 'metrics') {
      for (const r of data.filter(r => r.metric === 'val_loss')) {
        assert.deepEqual([r.k, r.eps, r.layer, r.head], [null, null, null, null], 'val_loss NULLs')
      }
    }
  }
})
