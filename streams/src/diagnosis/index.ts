/** 视频质量诊断 — picture diagnosis: sampling (ffmpeg), the platform's own measures, and the judge. */
export { buildSampleArgs, type SampleInput, type SampleOutput } from './args.ts';
export {
  SAMPLE_FAILURES,
  createPictureDiagnoser,
  failureOf,
  type DiagnoseOptions,
  type DiagnosisResult,
  type DiagnosisStatus,
  type PictureDiagnoser,
  type PictureDiagnoserOptions,
  type SampleFailure,
} from './diagnose.ts';
export {
  DEFAULT_THRESHOLDS,
  PICTURE_FAULT_KINDS,
  judgePicture,
  type PictureFaultKind,
  type QualityThresholds,
} from './judge.ts';
export {
  ANALYSIS_HEIGHT,
  ANALYSIS_WIDTH,
  BLOCK,
  blockGrid,
  blurIndex,
  colourCast,
  largestUniformShare,
  lumaStats,
  measureFrame,
  measureSample,
  motionShare,
  quantile,
  sceneDifference,
  sceneSignature,
  splitYuv444,
  temporalNoise,
  type SampleMeasures,
  type SceneSignature,
  type YuvFrame,
} from './measures.ts';
