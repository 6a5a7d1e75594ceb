export { loadProfiles, ProfileError } from './profiles.ts';
export { profileSchema, type Profile } from './profile-schema.ts';
