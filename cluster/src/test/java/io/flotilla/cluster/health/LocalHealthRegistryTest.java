package io.flotilla.cluster.health;

class LocalHealthRegistryTest extends HealthRegistryContract {

    @Override
    protected HealthRegistry newRegistry() {
        return HealthRegistry.local("solo");
    }

    @Override
    protected HealthRegistry reader() {
        return registry;
    }

    @Override
    protected int members() {
        return 1;
    }
}
