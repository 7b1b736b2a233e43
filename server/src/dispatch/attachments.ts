/** An order's evidence files: images uploaded before the step that uses them, and reading one back. */
import type { OrderAttachmentView } from '../api/contract.ts';
import type { AuthContext } from '../auth/index.ts';
import { actorOf } from '../audit/index.ts';
import { badRequest, conflict, notFound } from '../http/errors.ts';
import { iso, type DispatchDeps, type OrderCore } from './core.ts';

export function createAttachments(deps: DispatchDeps, core: OrderCore) {
  const { store, repo, audit, clock, config } = deps;
  const { attachmentView } = core;
  return {
    /** POST /orders/:id/attachments: an image kept loose until a step of the same user uses it. */
    async upload(
      ctx: AuthContext,
      ip: string | null,
      id: number,
      contentType: string,
      data: Buffer,
    ): Promise<OrderAttachmentView> {
      const o = await repo.byId(ctx.scope, id);
      if (!o) throw notFound('order');
      if (o.state === 'closed') throw conflict('the order is closed');
      const isJpeg = data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
      const isPng =
        data.length > 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      if ((contentType === 'image/jpeg' && !isJpeg) || (contentType === 'image/png' && !isPng))
        throw badRequest([{ path: 'body', message: `not a ${contentType === 'image/png' ? 'PNG' : 'JPEG'} image` }]);
      // Count and insert in one transaction, so that uploads at the same time cannot pass the limit together.
      const a = await store.transaction(async () => {
        await store.lock(`order.attachments:${o.id}`);
        if ((await repo.countAttachments(o.id)) >= config.maxAttachmentsPerOrder)
          throw conflict('the order has as many attachments as allowed', [
            { path: 'body', message: 'too many attachments' },
          ]);
        const a = await repo.addAttachment(
          {
            orderId: o.id,
            transitionId: null,
            kind: 'image',
            cameraId: null,
            contentType,
            bytes: data.length,
            uploadedBy: ctx.user.id,
            takenAt: iso(clock.now()),
          },
          data,
        );
        // The audit entry with the attachment (issue 13: both or neither).
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'order.upload',
          targetType: 'order',
          targetId: o.id,
          outcome: 'ok',
          detail: { attachment: a.id, bytes: data.length },
        });
        return a;
      });
      return attachmentView(o.id, a);
    },

    async attachment(
      ctx: AuthContext,
      id: number,
      attachmentId: number,
    ): Promise<{ contentType: string; data: Buffer }> {
      const o = await repo.byId(ctx.scope, id);
      if (!o) throw notFound('order');
      const a = await repo.attachmentData(o.id, attachmentId);
      if (!a) throw notFound('attachment');
      return { contentType: a.meta.contentType, data: a.data };
    },
  };
}
