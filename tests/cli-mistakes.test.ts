// Ordinary mistakes on the command line and at start-up get a sentence and an exit code, never a stack trace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageProblem } from '../src/store/store.ts';
import { newsloom, newsloomProcess } from './helpers/process.ts';

describe('the command line, given a mistake', () => {
  let dir: string;
  const config = (name: string, yaml: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, yaml);
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-mistakes-'));
  });

  it('prints its version, help for each command, and names an unknown option with a suggestion', async () => {
    // The program itself, once: its version, and an exit code set from what cli() returns.
    const version = await newsloomProcess(['-V']);
    const help = await newsloom(['fetch', '--help']);
    const unknown = await newsloomProcess(['fetch', '--sourc', 'tass-en']);
    expect(version).toMatchObject({ code: 0, stdout: 'newsloom 0.1.0\n' });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: newsloom fetch \[options\]\n\n {2}fetch \[--source ID\] poll every enabled source once/);
    expect(help.stdout).not.toContain('  prune ');
    expect(help.stdout).toContain('-V, --version');
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: 'newsloom: unknown option --sourc (did you mean --source?)\nrun "newsloom --help" for the commands and options\n' });
  });

  describe('at start-up', () => {
    let busy: net.Server;
    let port: number;

    beforeAll(async () => {
      busy = net.createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      port = (busy.address() as net.AddressInfo).port;
    });

    afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

    it('says which port is in use, which data path is not a folder or not writable, and exits 3', async () => {
      const db = path.join(dir, 'db', 'newsloom.db');
      writeFileSync(path.join(dir, 'a-file'), '');
      const [inUse, notAFolder, unwritable] = await Promise.all([
        newsloomProcess(['run', '--config', config('in-use.yaml', `server: { host: 127.0.0.1, port: ${port} }\nstorage: { path: ${JSON.stringify(db)} }\n`)]),
        newsloom(['fetch', '--config', config('file.yaml', `storage: { path: ${JSON.stringify(path.join(dir, 'a-file', 'newsloom.db'))} }\n`)]),
        // Not writable even for root: /sys is the kernel's.
        newsloom(['fetch', '--config', config('sys.yaml', 'storage: { path: /sys/newsloom/newsloom.db }\n')]),
      ]);
      expect(inUse.code).toBe(3);
      expect(inUse.stderr).toBe(`newsloom: port ${port} is in use: set server.port or NEWSLOOM_PORT (EADDRINUSE)\n`);
      expect(notAFolder.code).toBe(3);
      expect(notAFolder.stderr).toMatch(/^newsloom: cannot open the database .*a-file\/newsloom\.db: a part of its path is a file, not a folder \((ENOTDIR|EEXIST)\)\n$/);
      expect(unwritable.code).toBe(3);
      expect(unwritable.stderr).toMatch(/^newsloom: cannot open the database \/sys\/newsloom\/newsloom\.db: no permission to write in its folder \((EACCES|EPERM)\)\n$/);
    });
  });

  it('calls a database that cannot grow its shared-memory file what it is: a full disk', () => {
    expect(storageProblem(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_SHMSIZE'))).toBe('the disk holding the database is full (no room for its -shm file) (SQLITE_IOERR_SHMSIZE)');
  });
});
