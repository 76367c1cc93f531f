package dev.errand.compat;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** The greeting activity, typed: registered and started through this interface. */
@ActivityInterface
public interface Greetings {
  @ActivityMethod(name = "ComposeGreeting")
  String composeGreeting(String name);

  final class Impl implements Greetings {
    @Override
    public String composeGreeting(String name) {
      return "Hello, " + name + "!";
    }
  }
}
