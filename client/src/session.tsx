import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Permission, SessionUser } from '@api/contract.ts';

interface SessionValue {
  user: SessionUser;
  /** The server enforces permissions; the client only uses this to hide what would be refused. */
  can: (permission: Permission) => boolean;
  logout: () => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({
  user,
  onLogout,
  children,
}: {
  user: SessionUser;
  onLogout: () => void;
  children: ReactNode;
}) {
  const value = useMemo<SessionValue>(
    () => ({ user, can: (permission) => user.permissions.includes(permission), logout: onLogout }),
    [user, onLogout],
  );
  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession must be used inside <SessionProvider>');
  return value;
}
