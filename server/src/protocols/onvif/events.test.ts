import { describe, expect, it } from 'vitest';
import { at, parseXml } from '../xml.ts';
import { normaliseTopic, parseNotifications } from './events.ts';

const msg = (topic: string, data: string, attrs = 'UtcTime="2026-11-22T08:00:00Z" PropertyOperation="Changed"') =>
  `<wsnt:NotificationMessage><wsnt:Topic Dialect="x">${topic}</wsnt:Topic><wsnt:Message><tt:Message ${attrs}>` +
  `<tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VS_1"/></tt:Source>` +
  `<tt:Data>${data}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`;
const response = (inner: string) =>
  at(
    parseXml(
      `<s:Envelope xmlns:s="a" xmlns:tev="b" xmlns:wsnt="c" xmlns:tt="d" xmlns:tns1="e"><s:Body><tev:PullMessagesResponse>${inner}</tev:PullMessagesResponse></s:Body></s:Envelope>`,
    ),
    'Envelope',
    'Body',
    'PullMessagesResponse',
  );

describe('ONVIF notifications', () => {
  it('reads motion and tamper with state, time and operation', () => {
    const ev = parseNotifications(
      response(
        msg('tns1:VideoSource/MotionAlarm', '<tt:SimpleItem Name="State" Value="true"/>') +
          msg('tns1:VideoSource/GlobalSceneChange/ImagingService', '<tt:SimpleItem Name="State" Value="false"/>') +
          msg('tns1:RuleEngine/CellMotionDetector/Motion', '<tt:SimpleItem Name="IsMotion" Value="1"/>', ''),
      ),
    );
    expect(ev).toEqual([
      {
        kind: 'motion',
        topic: 'VideoSource/MotionAlarm',
        state: true,
        operation: 'Changed',
        utcTime: new Date('2026-11-22T08:00:00Z'),
        source: 'VS_1',
      },
      expect.objectContaining({ kind: 'tamper', state: false }),
      expect.objectContaining({ kind: 'motion', state: true, operation: null, utcTime: null }),
    ]);
  });

  it('skips unknown topics, missing or odd states, and caps the count', () => {
    const many = Array.from({ length: 50 }, () =>
      msg('tns1:VideoSource/MotionAlarm', '<tt:SimpleItem Name="State" Value="true"/>'),
    ).join('');
    expect(parseNotifications(response(many), 10)).toHaveLength(10);
    expect(
      parseNotifications(
        response(
          msg('tns1:Device/Trigger/DigitalInput', '<tt:SimpleItem Name="LogicalState" Value="true"/>') +
            msg('tns1:VideoSource/MotionAlarm', '<tt:SimpleItem Name="State" Value="maybe"/>') +
            msg('tns1:VideoSource/MotionAlarm', '', 'UtcTime="yesterday"'),
        ),
      ),
    ).toEqual([]);
    expect(parseNotifications(undefined)).toEqual([]);
    expect(normaliseTopic(' tns1:VideoSource/ns:MotionAlarm ')).toBe('VideoSource/MotionAlarm');
  });
});
