export { ChatServiceFake, type ChatFakeOptions, type ChatFakeTopics, type ReceivedRequest } from './service';
export { DEFAULT_SWITCHES, type ChatFakeSwitches } from './switches';
export { fakeAnswer, fakeTokens } from './model';
