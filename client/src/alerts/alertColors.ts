import type { AlertLevel, AlertStatus } from '@api/contract.ts';

/** 四色预警 colours, also used for the map markers. */
export const ALERT_LEVEL_COLORS: Record<AlertLevel, string> = {
  blue: '#3b82f6',
  yellow: '#eab308',
  orange: '#f97316',
  red: '#ef4444',
};

const LEVEL_RANK: Record<AlertLevel, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };

export const levelRank = (level: AlertLevel): number => LEVEL_RANK[level];

/** Red and orange alerts pop up and may sound. */
export const isUrgent = (level: AlertLevel): level is 'red' | 'orange' => level === 'red' || level === 'orange';

/** Statuses that still need someone: shown on the map and counted in the nav. */
export const isOpen = (status: AlertStatus): boolean => status === 'new' || status === 'acknowledged';
