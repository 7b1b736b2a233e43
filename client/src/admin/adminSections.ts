/**
 * Which admin sections a user may open: asked by the console's shell and top bar on every page, so it lives
 * apart from the admin page (a chunk of its own, loaded when the page is opened).
 */
import type { Permission } from '@api/contract.ts';
import { ADMIN_SECTIONS, type AdminSection } from '../router.ts';

const NEEDS: Record<AdminSection, Permission> = {
  users: 'user.read',
  sources: 'alert.source.manage',
  screens: 'wall.write',
  networks: 'network.manage',
  views: 'audit.read',
};

/** The sections the user may open; the admin entry shows only when there is one. */
export function adminSections(can: (p: Permission) => boolean): AdminSection[] {
  // Screens are managed on the wall by operators; here they belong to admins (user management).
  return ADMIN_SECTIONS.filter((s) => can(NEEDS[s]) && (s !== 'screens' || can('user.read')));
}

export function adminAllowed(can: (p: Permission) => boolean): boolean {
  return adminSections(can).length > 0;
}
