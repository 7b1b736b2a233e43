export {
  RECORD_SEGMENT_FILE,
  RECORD_SEGMENT_PATTERN,
  SEGMENT_LIST,
  buildExportArgs,
  buildRecordArgs,
  buildRepairArgs,
  concatList,
  parseSegmentList,
  progressDuration,
  type ExportSpec,
  type ListedSegment,
  type RecordOutputSpec,
} from './args.ts';
export {
  createRecorder,
  runName,
  type RecordedSegment,
  type Recorder,
  type RecorderOptions,
  type RecorderStateEvent,
  type RecorderStatus,
  type RecoverResult,
} from './recorder.ts';
