// The records system's push API: POST /api/v1/incidents, /flags and /contacts, JSON arrays of the
// same records as the CSV import, behind a bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { pushRecords, type RecordType } from '../app/import-records.js';
import type { Database } from '../store/database.js';

export const maxRecordsPerPush = 1_000;
// 1,000 records of a few hundred bytes each fit easily; anything larger is refused unread.
const maxBodyBytes = 2 * 1024 * 1024;

export function ingestRouter(db: Database, token: string | undefined, log: Logger): Router {
  const router = express.Router();
  const expected = token ? digest(token) : undefined;

  router.use('/api/v1', (req: Request, res: Response, next: NextFunction) => {
    if (!expected) {
      res.status(503).json({ error: 'The ingest API is switched off: set DMM_INGEST_TOKEN to enable it.' });
      return;
    }
    const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: 'A valid bearer token is required.' });
      return;
    }
    next();
  });
  router.use('/api/v1', express.json({ limit: maxBodyBytes, strict: false, type: () => true }));

  const handler = (type: RecordType) => async (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!Array.isArray(body)) {
      res.status(400).json({ error: `The body must be a JSON array of ${type} records.` });
      return;
    }
    if (body.length > maxRecordsPerPush) {
      res.status(413).json({ error: `At most ${maxRecordsPerPush} records per request; this one has ${body.length}.` });
      return;
    }
    const result = await pushRecords(db, type, body, 'api:ingest');
    if (!result.ok) {
      res.status(400).json({ error: `${result.problems.length} problem(s); nothing was written.`, problems: result.problems });
      return;
    }
    log.info({ type, ...result.counts }, 'ingest push');
    res.status(200).json(result.counts);
  };
  router.post('/api/v1/incidents', handler('incidents'));
  router.post('/api/v1/flags', handler('flags'));
  router.post('/api/v1/contacts', handler('contacts'));

  router.use('/api/v1', (error: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.too.large') {
      res.status(413).json({ error: `The body is larger than ${maxBodyBytes / 1024 / 1024} MB.` });
    } else if (error.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'The body is not valid JSON.' });
    } else if (error.status && error.status >= 400 && error.status < 500) {
      res.status(error.status).json({ error: 'The request could not be read.' });
    } else {
      log.error({ err: { message: error.message, name: error.name } }, 'ingest failed');
      res.status(500).json({ error: 'The records could not be stored; nothing was written. Try again.' });
    }
  });
  return router;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
