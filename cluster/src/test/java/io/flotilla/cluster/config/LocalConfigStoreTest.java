package io.flotilla.cluster.config;

class LocalConfigStoreTest extends ConfigStoreContract {

    @Override
    protected ConfigStore newStore() {
        return ConfigStore.local("solo");
    }

    @Override
    protected ConfigStore reader() {
        return store;
    }
}
