/** The local Kubernetes used by `landlord up`, `landlord cluster …` and the test suites. */
export { startCluster, attachCluster, type ClusterOptions, type DevCluster } from './cluster.ts';
export type { Identity } from './certificates.ts';
export { ensureBinaries } from './binaries.ts';
export { buildLandlordImage, buildTestAppImage, landlordImage, testAppImage } from './image/images.ts';
export { nodeNetwork } from './layout.ts';
