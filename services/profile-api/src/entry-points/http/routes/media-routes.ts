import { Router } from 'express';
import type { Avatars } from '../../../domain/ports.ts';

/** Avatars by content hash: immutable, so clients and proxies may cache them forever. */
export function mediaRoutes({ avatars }: { avatars: Avatars }): Router {
  const router = Router();
  router.get('/media/avatars/:userId/:file', async (req, res) => {
    const hash = /^([a-f0-9]{64})\.\w+$/.exec(req.params.file)?.[1];
    const avatar = hash ? await avatars.find(hash) : null;
    if (!avatar) {
      res.status(404).json({ detail: 'Not found.' });
      return;
    }
    res
      .set({ 'Content-Type': avatar.contentType, 'Cache-Control': 'public, max-age=31536000, immutable' })
      .send(avatar.data);
  });
  return router;
}
