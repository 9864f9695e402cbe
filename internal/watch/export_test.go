package watch

// CheckEvery lets tests check the watched directories more often than a second.
var CheckEvery = &checkEvery
