/**
 * The descriptive fields of a camera point, shared by the camera form and the
 * discovery confirmation dialog. Each form keeps its own state, checks and
 * layout; these pieces only render the controls, in the order the form chooses.
 */
import { useMemo } from 'react';
import type { NetworkView, OrgUnitView } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';
import { Field } from './Field.tsx';
import { networkLabel } from './NetworkList.tsx';
import { buildOrgTree, flattenOrgTree } from './OrgTree.tsx';

export interface PointFieldValues {
  name: string;
  code: string;
  networkId: string;
  orgUnitId: string;
  address: string;
  direction: string;
  fov: string;
}

export interface PointFieldProps {
  form: PointFieldValues;
  set: (key: keyof PointFieldValues, value: string) => void;
  /** The first error among the given paths. */
  err: (...paths: string[]) => string | undefined;
}

export function NameField({ form, set, err }: PointFieldProps) {
  const { t } = useI18n();
  return (
    <Field label={t('form.name')} error={err('name')}>
      {(id) => <input id={id} value={form.name} onChange={(e) => set('name', e.target.value)} maxLength={200} />}
    </Field>
  );
}

export function CodeField({ form, set, err }: PointFieldProps) {
  const { t } = useI18n();
  return (
    <Field label={t('form.code')} error={err('code')}>
      {(id) => (
        <input
          id={id}
          className="mono"
          inputMode="numeric"
          value={form.code}
          onChange={(e) => set('code', e.target.value)}
          maxLength={20}
        />
      )}
    </Field>
  );
}

interface NetworkAndUnitFieldsProps extends PointFieldProps {
  networks: readonly NetworkView[];
  orgUnits: readonly OrgUnitView[];
}

/** Network and org unit, side by side; units are indented by their depth in the tree. */
export function NetworkAndUnitFields({ form, set, err, networks, orgUnits }: NetworkAndUnitFieldsProps) {
  const { t, lang } = useI18n();
  const orgOptions = useMemo(() => flattenOrgTree(buildOrgTree(orgUnits)), [orgUnits]);
  return (
    <div className="field-row">
      <Field label={t('form.network')} error={err('networkId')}>
        {(id) => (
          <select id={id} value={form.networkId} onChange={(e) => set('networkId', e.target.value)}>
            <option value="">{t('common.choose')}</option>
            {networks.map((n) => (
              <option key={n.id} value={n.id}>
                {networkLabel(n, lang)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('form.orgUnit')} error={err('orgUnitId')}>
        {(id) => (
          <select id={id} value={form.orgUnitId} onChange={(e) => set('orgUnitId', e.target.value)}>
            <option value="">{t('common.choose')}</option>
            {orgOptions.map(({ unit, depth }) => (
              <option key={unit.id} value={unit.id}>
                {'\u00a0\u00a0\u00a0'.repeat(depth) + unit.name}
              </option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}

/** Degree fields, 0 to 360. */
const ANGLE_FIELDS = ['direction', 'fov'] as const;

/** The address, then direction and field of view side by side. */
export function AddressAndViewFields({ form, set, err }: PointFieldProps) {
  const { t } = useI18n();
  return (
    <>
      <Field label={t('form.address')} error={err('address')}>
        {(id) => <input id={id} value={form.address} onChange={(e) => set('address', e.target.value)} />}
      </Field>
      <div className="field-row">
        {ANGLE_FIELDS.map((key) => (
          <Field key={key} label={t(`form.${key}`)} error={err(key)}>
            {(id) => (
              <input
                id={id}
                type="number"
                min={0}
                max={360}
                step="any"
                value={form[key]}
                onChange={(e) => set(key, e.target.value)}
              />
            )}
          </Field>
        ))}
      </div>
    </>
  );
}
