"""Pick a local model for a task from models.json, based on how much RAM this machine has,
then say hello to it through the Foundry Local service.

models.json lists candidates, best first:
    [{"name": "phi-4-mini", "task": "chat", "min_ram_gb": 8, "notes": "..."}, ...]

Usage: python select_model.py [task]     (task defaults to "chat")
"""
import json
import os
import sys

import requests

ENDPOINT = "http://localhost:8000/v1/chat/completions"


def installed_ram_gb():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1024 ** 3)


def select_model(models, task, ram_gb):
    for model in models:
        if model["task"] == task and ram_gb >= model["min_ram_gb"]:
            return model
    return None


def main():
    task = sys.argv[1] if len(sys.argv) > 1 else "chat"
    with open("models.json") as f:
        models = json.load(f)

    ram_gb = installed_ram_gb()
    print(f"Installed RAM: {ram_gb:.1f} GB")
    model = select_model(models, task, ram_gb)
    if model is None:
        print(f"No model for task '{task}' fits in {ram_gb:.1f} GB of RAM")
        sys.exit(1)
    print(f"Selected model: {model['name']} ({model['notes']})")

    response = requests.post(ENDPOINT, json={
        "model": model["name"],
        "messages": [{"role": "user", "content": "Say hello in 5 words."}],
        "max_tokens": 16,
    }, timeout=300)
    response.raise_for_status()
    print("Reply:", response.json()["choices"][0]["message"]["content"])


if __name__ == "__main__":
    main()
