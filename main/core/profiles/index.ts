export { ClientProfiles, PROFILE_KINDS, profileName, type ClientProfile, type ProfileAccount, type ProfileKind } from './client-profiles.ts';
export { profilePaths, type ProfilePaths } from './profile-paths.ts';
