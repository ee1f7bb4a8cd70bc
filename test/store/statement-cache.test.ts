import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatementCache } from '../../src/store/statement-cache.js';

let db: Database.Database;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
});

afterEach(() => {
  db.close();
});

describe('StatementCache', () => {
  it('compiles each SQL text once', () => {
    const cache = new StatementCache(db);
    const insert = cache.prepare('INSERT INTO t (v) VALUES (?)');
    expect(cache.prepare('INSERT INTO t (v) VALUES (?)')).toBe(insert);
    insert.run(1);
    cache.prepare('INSERT INTO t (v) VALUES (?)').run(2);
    expect(cache.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
  });

  it('drops the oldest past 256 texts', () => {
    const cache = new StatementCache(db);
    const first = cache.prepare('SELECT 0');
    for (let index = 1; index <= 256; index += 1) {
      cache.prepare(`SELECT ${index}`);
    }
    expect(cache.prepare('SELECT 256')).toBe(cache.prepare('SELECT 256'));
    expect(cache.prepare('SELECT 0')).not.toBe(first);
  });
});
